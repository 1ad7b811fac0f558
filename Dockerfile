# The fleetsim image: the static binary alone, so building it pulls nothing
# from a registry. scripts/build-image.sh builds the binary and the image.
FROM scratch
COPY fleetsim /fleetsim
ENTRYPOINT ["/fleetsim"]
