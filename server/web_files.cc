#include "server/web_files.h"

#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "core/base/strings.h"
#include "core/verify/keys.h"

namespace veta::server {
namespace {

// The largest file served (a web app's bundle is well under this).
constexpr size_t kWebFileBytesMax = 32 << 20;

HttpResponse NotFound(std::string message) {
  HttpResponse r;
  r.status = 404;
  r.body = std::move(message) + "\n";
  r.headers.emplace("Cache-Control", "no-store");
  return r;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The file `rel` under `dir`, if it is a regular file whose real path lies inside dir's.
std::optional<std::filesystem::path> Resolve(const std::string& dir, std::string_view rel) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec) return std::nullopt;
  const fs::path file = fs::canonical(root / fs::path(std::string(rel)), ec);
  if (ec || !fs::is_regular_file(file, ec)) return std::nullopt;
  // Inside root: root's components are a prefix of the file's (no symbolic link escapes).
  auto f = file.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++f) {
    if (f == file.end() || *f != *r) return std::nullopt;
  }
  return file;
}

}  // namespace

std::string_view WebContentType(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
      {".geojson", "application/geo+json"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return type;
  }
  return "application/octet-stream";
}

HttpResponse ServeWebFile(const std::string& web_dir, std::string_view path) {
  if (path.empty() || path[0] != '/') return NotFound("not found");
  if (StartsWith(path, "/veta.v1.") || StartsWith(path, "/tile/") || path == "/checkpoint") {
    return NotFound("not found (the API answers POST; tiles are served with --tiles-dir)");
  }
  std::string_view rel = path.substr(1);
  for (std::string_view part : Split(rel, '/')) {
    if (part == "..") return NotFound("not found");
  }
  if (rel.find('\0') != std::string_view::npos || rel.find('\\') != std::string_view::npos) {
    return NotFound("not found");
  }
  const size_t slash = rel.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  const bool is_file = last.find('.') != std::string_view::npos;
  if (!is_file) rel = "index.html";  // "/" and client-side routes
  std::optional<std::filesystem::path> file = Resolve(web_dir, rel);
  if (!file) {
    return NotFound(is_file ? "not found" : "the web app is not built (no index.html)");
  }
  auto bytes = ReadFile(file->string(), kWebFileBytesMax);
  if (!bytes.ok()) return NotFound("not found");
  HttpResponse r;
  r.content_type = std::string(WebContentType(file->filename().string()));
  r.body = std::move(*bytes);
  r.headers.emplace("Cache-Control", StartsWith(rel, "assets/") && is_file
                                         ? "public, max-age=31536000, immutable"
                                         : "no-cache");
  r.headers.emplace("X-Content-Type-Options", "nosniff");
  // Never inside another site's frame: the app signs with the keys kept in this origin, and a
  // page that framed it could lead a person's clicks (clickjacking).
  r.headers.emplace("X-Frame-Options", "DENY");
  r.headers.emplace("Content-Security-Policy", "frame-ancestors 'none'");
  return r;
}

}  // namespace veta::server
