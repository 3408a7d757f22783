#pragma once
// Command-line parsing for thin mains: "--name value", "--name=value", boolean "--flag", and
// positional arguments; "--" ends options. Values may fall back to environment variables.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud {

class Args {
 public:
  // boolean_flags take no value. Unknown options are allowed here; mains check them with
  // requireKnown so a typo is a clear error.
  static Result<Args> parse(int argc, const char* const* argv,
                            const std::set<std::string>& boolean_flags = {});
  static Result<Args> parse(const std::vector<std::string>& argv,
                            const std::set<std::string>& boolean_flags = {});

  bool has(const std::string& name) const { return options_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  // The option, else the environment variable env (if given and set), else fallback.
  std::string get(const std::string& name, const std::string& env,
                  const std::string& fallback) const;
  Result<long long> getInt(const std::string& name, long long fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // Everything after "--".
  const std::vector<std::string>& rest() const { return rest_; }
  Status requireKnown(const std::set<std::string>& known) const;

 private:
  std::map<std::string, std::string> options_;
  std::vector<std::string> positional_;
  std::vector<std::string> rest_;
};

}  // namespace dcloud
