// Command fleetsim simulates and compares placements of AI inference
// across regions and edge sites. See README.md.
package main

import "github.com/fleetsim/fleetsim/cli"

func main() { cli.Main() }
