# Builds tests/go/vetaverify, the Go program the interoperability tests run to check Veta's
# checkpoints and proofs with golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog.
#
# Offline: GOPATH mode (GO111MODULE=off) against the Debian packages golang-go and
# golang-golang-x-mod-dev, which install the x/mod sources under /usr/share/gocode. Nothing is
# downloaded (GOPROXY=off, GOFLAGS and the user's go env file ignored) and the build cache
# lives in the build tree.
#
# Defines:
#   VETA_GO_VERIFIER_PATH  absolute path of the built program
#   veta_go_verifier       the target that builds it

set(VETA_GOPATH "/usr/share/gocode" CACHE PATH
    "GOPATH holding golang.org/x/mod (Debian: golang-golang-x-mod-dev)")
find_program(VETA_GO_EXECUTABLE NAMES go PATHS /usr/lib/go/bin DOC "The Go toolchain")

if(NOT VETA_GO_EXECUTABLE)
  message(FATAL_ERROR
    "The Go interoperability tests need the `go` tool, which was not found. Install it with\n"
    "  apt-get install golang-go golang-golang-x-mod-dev\n"
    "(or configure with -DVETA_BUILD_TESTS=OFF).")
endif()
if(NOT EXISTS "${VETA_GOPATH}/src/golang.org/x/mod/sumdb/note/note.go"
   OR NOT EXISTS "${VETA_GOPATH}/src/golang.org/x/mod/sumdb/tlog/tlog.go")
  message(FATAL_ERROR
    "The Go interoperability tests need golang.org/x/mod/sumdb/{note,tlog} under "
    "${VETA_GOPATH}/src, which were not found. Install them with\n"
    "  apt-get install golang-go golang-golang-x-mod-dev\n"
    "(or point -DVETA_GOPATH at a GOPATH holding golang.org/x/mod).")
endif()

set(VETA_GO_VERIFIER_DIR "${CMAKE_BINARY_DIR}/tests/go")
set(VETA_GO_VERIFIER_PATH "${VETA_GO_VERIFIER_DIR}/vetaverify")
set(VETA_GO_VERIFIER_SOURCE "${CMAKE_CURRENT_LIST_DIR}/vetaverify.go")
file(MAKE_DIRECTORY "${VETA_GO_VERIFIER_DIR}")

add_custom_command(
  OUTPUT "${VETA_GO_VERIFIER_PATH}"
  COMMAND "${CMAKE_COMMAND}" -E env
          --unset=GOFLAGS
          "GOPATH=${VETA_GOPATH}"
          GO111MODULE=off
          "GOCACHE=${VETA_GO_VERIFIER_DIR}/gocache"
          GOPROXY=off
          GOENV=off
          GOTOOLCHAIN=local
          "${VETA_GO_EXECUTABLE}" build -buildvcs=false -o "${VETA_GO_VERIFIER_PATH}"
          "${VETA_GO_VERIFIER_SOURCE}"
  DEPENDS "${VETA_GO_VERIFIER_SOURCE}"
  WORKING_DIRECTORY "${VETA_GO_VERIFIER_DIR}"
  COMMENT "Building the Go verifier tests/go/vetaverify"
  VERBATIM)
add_custom_target(veta_go_verifier DEPENDS "${VETA_GO_VERIFIER_PATH}")
