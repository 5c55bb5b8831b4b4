#include "client/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "client/address.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta::client {
namespace {

struct Known {
  std::string_view key, variable;
  bool is_file;  // a file name: relative ones are read from the config file's folder
};

constexpr Known kKnown[] = {
    {"server", "VETA_SERVER", false},    {"tls_ca", "VETA_TLS_CA", true},
    {"tls_cert", "VETA_TLS_CERT", true}, {"tls_key", "VETA_TLS_KEY", true},
    {"key", "VETA_KEY", true},           {"web_url", "VETA_WEB_URL", false},
};

constexpr char kDefaultWebUrl[] = "http://127.0.0.1:7488";

const Known* FindKnown(std::string_view key) {
  for (const Known& k : kKnown) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

struct LoadedConfig {
  std::string path;
  absl::Status status;
  std::map<std::string, ConfigLine> lines;
};

// The config file, read once.
const LoadedConfig& Loaded() {
  static const LoadedConfig* loaded = [] {
    auto* c = new LoadedConfig;
    c->path = ConfigPath();
    std::ifstream in(c->path, std::ios::binary);
    if (!in) return c;  // no config file: nothing set
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = ParseConfig(text.str(), c->path);
    if (!parsed.ok()) {
      c->status = parsed.status();
      return c;
    }
    for (auto& l : *parsed) c->lines[l.key] = l;
    return c;
  }();
  return *loaded;
}

}  // namespace

std::string ConfigPath() {
  if (const char* p = std::getenv("VETA_CONFIG"); p != nullptr && *p != 0) return p;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != 0) {
    return StrCat(x, "/veta/config");
  }
  const char* home = std::getenv("HOME");
  return StrCat(home != nullptr ? home : ".", "/.config/veta/config");
}

const std::vector<std::string_view>& SettingKeys() {
  static const auto* keys = [] {
    auto* v = new std::vector<std::string_view>;
    for (const Known& k : kKnown) v->push_back(k.key);
    return v;
  }();
  return *keys;
}

absl::StatusOr<std::vector<ConfigLine>> ParseConfig(std::string_view text, std::string_view file) {
  std::vector<ConfigLine> out;
  std::map<std::string, size_t> seen;
  size_t number = 0;
  for (std::string_view raw : Split(text, '\n')) {
    ++number;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat(file, ":", number, ": expected `key = value`, got '", line, "'"));
    }
    ConfigLine l{std::string(Trim(line.substr(0, eq))), std::string(Trim(line.substr(eq + 1))),
                 number};
    if (FindKnown(l.key) == nullptr) {
      std::string keys;
      for (const Known& k : kKnown) keys += StrCat(keys.empty() ? "" : ", ", k.key);
      return absl::InvalidArgumentError(
          StrCat(file, ":", number, ": unknown key '", l.key, "' (known: ", keys, ")"));
    }
    if (auto it = seen.find(l.key); it != seen.end()) {
      return absl::InvalidArgumentError(
          StrCat(file, ":", number, ": '", l.key, "' is already set on line ", it->second));
    }
    // A value may be quoted, to keep spaces at its ends.
    if (l.value.size() >= 2 && l.value.front() == '"' && l.value.back() == '"') {
      l.value = l.value.substr(1, l.value.size() - 2);
    }
    seen[l.key] = number;
    out.push_back(std::move(l));
  }
  return out;
}

absl::StatusOr<Setting> LookupSetting(std::string_view key) {
  const Known* k = FindKnown(key);
  if (k == nullptr) return absl::InvalidArgumentError(StrCat("no setting '", key, "'"));
  Setting s{std::string(k->key), std::string(k->variable), "", "default"};
  if (const char* v = std::getenv(s.variable.c_str()); v != nullptr && *v != 0) {
    s.value = v;
    s.source = StrCat("environment ", s.variable);
    return s;
  }
  const LoadedConfig& config = Loaded();
  RETURN_IF_ERROR(config.status);
  if (auto it = config.lines.find(s.key); it != config.lines.end()) {
    s.value = it->second.value;
    if (k->is_file && !s.value.empty() && s.value.front() != '/') {
      const size_t slash = config.path.rfind('/');
      if (slash != std::string::npos) s.value = StrCat(config.path.substr(0, slash + 1), s.value);
    }
    s.source = StrCat("config ", config.path, ":", it->second.line);
    return s;
  }
  if (s.key == "server") s.value = kDefaultServer;
  if (s.key == "web_url") s.value = kDefaultWebUrl;
  return s;
}

std::string SettingOrExit(std::string_view key) {
  auto s = LookupSetting(key);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
    std::exit(2);
  }
  return s->value;
}

}  // namespace veta::client
