// A small command-line parser shared by the binaries: --name=value or --name value, boolean
// --name, positional arguments, and a generated --help. Unknown flags are errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace veta {

class Flags {
 public:
  Flags(std::string usage, std::string description);

  // Registers a flag bound to `target`, whose current value is the default shown in --help.
  void String(std::string name, std::string* target, std::string help);
  void Uint(std::string name, uint64_t* target, std::string help);
  void Bool(std::string name, bool* target, std::string help);
  // Repeatable string flag (each use appends).
  void Strings(std::string name, std::vector<std::string>* target, std::string help);

  // Parses argv[first..argc). OK with *help_requested set when --help/-h was given.
  [[nodiscard]] absl::Status Parse(int argc, char** argv, int first = 1);
  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& positional() const { return positional_; }
  std::string Help() const;

 private:
  enum class Kind { kString, kUint, kBool, kStrings };
  struct Flag {
    std::string name;
    Kind kind;
    void* target;
    std::string help;
    std::string default_text;
  };
  [[nodiscard]] absl::Status Set(const Flag& flag, std::string_view value);

  std::string usage_, description_;
  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

}  // namespace veta
