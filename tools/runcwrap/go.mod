// Module runcwrap builds runc-fleetsim-wrapper, the OCI runtime that
// scripts/kind-prepare.sh registers as dockerd's default runtime on machines
// whose capability bounding set lacks CAP_SYS_RESOURCE. It has no
// dependencies and is separate from the main module.
module github.com/fleetsim/fleetsim/tools/runcwrap

go 1.26.8
