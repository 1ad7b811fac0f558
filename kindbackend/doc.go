// Package kindbackend runs the Kubernetes clusters of a plan validation as
// kind clusters (sigs.k8s.io/kind's Go library, Docker provider) built from
// fleetsim's local node image (scripts/kind-node-image.sh): it creates and
// deletes the clusters fleetsim owns (names starting with "fleetsim-"), loads
// the replica image into their nodes as `kind load docker-image` does, and
// turns kind's worker nodes into a scenario's GPU nodes by labelling them and
// advertising nvidia.com/gpu as an extended resource on their status. Expose
// puts a NodePort Service in front of a group's replica pods so that this
// host can send them requests.
//
// Deleting is guarded: a Kind deletes only clusters it created itself. It
// never touches a cluster someone else made, whatever its name.
package kindbackend
