// Module pause builds the sandbox ("pause") image of fleetsim's local kind
// node image: a static program that holds a pod's namespaces open until it
// is told to stop. It has no dependencies and is separate from the main
// module. scripts/kind-node-image.sh builds it.
module github.com/fleetsim/fleetsim/kindimage/pause

go 1.26.8
