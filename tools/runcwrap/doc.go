// Command runc-fleetsim-wrapper is an OCI runtime that drops capabilities the
// host cannot grant from the OCI spec it is given and then runs the real runc
// with the same arguments.
//
// On some VMs (Firecracker guests among them) the capability bounding set of
// every process lacks CAP_SYS_RESOURCE, so `docker run --privileged`, which
// asks runc for every capability, fails with "unable to apply caps: operation
// not permitted". The wrapper removes each capability listed in its drop set
// (CAP_SYS_RESOURCE by default) from every capability list of the process in
// the spec: <bundle>/config.json on `create` and `run`, the --process file on
// `exec`. Every other command (state, start, kill, delete, features, ...) is
// passed through untouched.
//
// Configuration comes from the environment, falling back to values set at
// build time with -ldflags '-X main.realRunc=... -X main.dropCaps=...':
//
//	FLEETSIM_REAL_RUNC  path of the real runc (default /usr/sbin/runc,
//	                    else the first runc on PATH that is not this program)
//	FLEETSIM_DROP_CAPS  comma-separated capabilities to drop
//	                    (default CAP_SYS_RESOURCE)
//
// The wrapper drops only capabilities the host cannot grant anyway, so a
// container's effective privileges are the same as with runc alone once runc
// could start it.
package main
