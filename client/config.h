// Settings the veta CLI and the tools share: the server's address, the TLS files, the signing
// key and the web app's address. Each setting is taken, first found, from the command line
// flag, the environment (VETA_SERVER, VETA_TLS_CA, VETA_TLS_CERT, VETA_TLS_KEY, VETA_KEY,
// VETA_WEB_URL), the config file, or its default. The config file is $VETA_CONFIG, else
// $XDG_CONFIG_HOME/veta/config, else ~/.config/veta/config; it holds `key = value` lines
// (keys: server, tls_ca, tls_cert, tls_key, key, web_url), with `#` comments and blank lines.
// Relative file names in it are read from the config file's folder. `veta config` shows the
// effective values and where each came from.
//
// The file is read once per process (thread-safe); a malformed one is an error naming its line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace veta::client {

struct Setting {
  std::string key;       // "server", "tls_ca", ...
  std::string variable;  // "VETA_SERVER", ...
  std::string value;
  // Where the value came from: "environment VETA_SERVER", "config FILE:LINE", "default".
  std::string source;
};

// The config file's path (it may not exist).
std::string ConfigPath();

// The settings' keys, in the order `veta config` shows them.
const std::vector<std::string_view>& SettingKeys();

// One setting from the environment, the config file or its default (no flag). An error when
// `key` is none of SettingKeys() or the config file is malformed.
[[nodiscard]] absl::StatusOr<Setting> LookupSetting(std::string_view key);

// LookupSetting's value, for a flag's default; a malformed config file is reported on standard
// error and ends the process (exit 2), as a bad flag would.
std::string SettingOrExit(std::string_view key);

// The parsed lines of a config file's text: (key, value, line). InvalidArgument naming the line
// and what is wrong (no '=', an unknown key, a key given twice).
struct ConfigLine {
  std::string key, value;
  size_t line = 0;
};
[[nodiscard]] absl::StatusOr<std::vector<ConfigLine>> ParseConfig(std::string_view text,
                                                                  std::string_view file);

}  // namespace veta::client
