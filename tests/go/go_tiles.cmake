# Builds tests/go/tilesread, the independent reader of Veta's C2SP tlog-tiles (HTTP, with only
# golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog), the way go_verifier.cmake builds
# vetaverify: offline, GOPATH mode, against Debian's golang-golang-x-mod-dev. Include it after
# go_verifier.cmake (it reuses VETA_GO_EXECUTABLE and VETA_GOPATH).
#
# Defines:
#   VETA_GO_TILES_PATH  absolute path of the built program
#   veta_go_tiles       the target that builds it

set(VETA_GO_TILES_DIR "${CMAKE_BINARY_DIR}/tests/go")
set(VETA_GO_TILES_PATH "${VETA_GO_TILES_DIR}/tilesread")
set(VETA_GO_TILES_SOURCE "${CMAKE_CURRENT_LIST_DIR}/tilesread/tilesread.go")
file(MAKE_DIRECTORY "${VETA_GO_TILES_DIR}")

add_custom_command(
  OUTPUT "${VETA_GO_TILES_PATH}"
  COMMAND "${CMAKE_COMMAND}" -E env
          --unset=GOFLAGS
          "GOPATH=${VETA_GOPATH}"
          GO111MODULE=off
          "GOCACHE=${VETA_GO_TILES_DIR}/gocache"
          GOPROXY=off
          GOENV=off
          GOTOOLCHAIN=local
          "${VETA_GO_EXECUTABLE}" build -buildvcs=false -o "${VETA_GO_TILES_PATH}"
          "${VETA_GO_TILES_SOURCE}"
  DEPENDS "${VETA_GO_TILES_SOURCE}"
  WORKING_DIRECTORY "${VETA_GO_TILES_DIR}"
  COMMENT "Building the Go tiles reader tests/go/tilesread"
  VERBATIM)
add_custom_target(veta_go_tiles DEPENDS "${VETA_GO_TILES_PATH}")
