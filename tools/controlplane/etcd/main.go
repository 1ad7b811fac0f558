// Command etcd is the etcd server (etcdmain.Main), built from the Go
// module proxy for fleetsim's local control planes.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
