#!/bin/bash
# Installs the Debian 12 packages ChaosMask builds, runs and tests with (as root).
# Skips apt entirely when everything is already installed.
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config clang          # toolchains (clang: the reproducibility build)
  libclang-rt-14-dev                               # libFuzzer and clang's sanitizer runtimes (scripts/fuzz.sh)
  libssl-dev zlib1g-dev libpng-dev libinih-dev     # OpenSSL, zlib, libpng, inih
  libsqlite3-dev                                   # the resume journal of `chaosmask migrate`
  libcairo2-dev                                    # charts of `chaosmask analyze` / `paper`
  dcmtk libdcmtk-dev                               # DICOM and its command-line tools
  python3 python3-pydicom                          # DICOM sample files and test objects (corpus, service)
  dicom3tools libgdcm-tools                        # dciodvfy, gdcmconv/gdcminfo for the tests
  ent                                              # randomness check of the keystream
  orthanc orthanc-dev libjsoncpp-dev               # the Orthanc plugin: server, plugin SDK, JSON
  orthanc-postgresql postgresql                    # its scale-out test: PostgreSQL index plugin and server
  curl iproute2 util-linux                         # Orthanc tests: REST, loopback in a namespace, unshare
  python3-odil                                     # an independent DICOM implementation (service tests)
  openssl bc procps                                # test certificates, timings, pgrep (service tests)
  valgrind                                         # uninitialised reads in DCMTK under the service (fuzz.valgrind.scp_query)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
