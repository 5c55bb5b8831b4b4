// The web app's static files (veta-server --web-dir DIR), served at / on the HTTP listener.
//
//   GET /                      DIR/index.html, Cache-Control: no-cache
//   GET /<path with extension> DIR/<path>, its content type by extension; Cache-Control: long
//                              and immutable under assets/ (Vite's hashed file names),
//                              no-cache elsewhere; 404 when missing
//   GET /<path without one>    DIR/index.html (a client-side route, e.g. /verificar)
//   GET /veta.v1.*, /tile/*, /checkpoint: 404 here (API and tile paths are never the app)
//
// Never a file outside DIR: a path with a ".." segment, a NUL or a backslash is refused (404), and
// the resolved file (symbolic links followed) must lie inside DIR's resolved path.
#pragma once

#include <string>
#include <string_view>

#include "server/http_server.h"

namespace veta::server {

// The response for GET `path` (as decoded by the HTTP server, starting with "/").
HttpResponse ServeWebFile(const std::string& web_dir, std::string_view path);

// The content type served for a file name, by extension (application/octet-stream when unknown).
std::string_view WebContentType(std::string_view file_name);

}  // namespace veta::server
