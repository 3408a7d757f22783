#include "common/args.h"

#include <charconv>
#include <cstdlib>

namespace dcloud {

Result<Args> Args::parse(int argc, const char* const* argv, const std::set<std::string>& flags) {
  std::vector<std::string> v;
  for (int i = 1; i < argc; ++i) v.emplace_back(argv[i]);
  return parse(v, flags);
}

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& flags) {
  Args out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      out.rest_.assign(argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
      break;
    }
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      out.positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::string value;
    std::size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (flags.count(name)) {
      value = "true";
    } else {
      if (i + 1 >= argv.size()) return invalidArgument("option --" + name + " needs a value");
      value = argv[++i];
    }
    // Repeated options accumulate, newline-separated (e.g. --admin A --admin B).
    auto it = out.options_.find(name);
    if (it != out.options_.end())
      it->second += "\n" + value;
    else
      out.options_[name] = value;
  }
  return out;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get(const std::string& name, const std::string& env,
                      const std::string& fallback) const {
  if (auto v = get(name)) return *v;
  if (!env.empty()) {
    if (const char* e = std::getenv(env.c_str()); e && *e) return e;
  }
  return fallback;
}

Result<long long> Args::getInt(const std::string& name, long long fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  long long out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size()) {
    return invalidArgument("--" + name + " must be an integer, got '" + *v + "'");
  }
  return out;
}

Status Args::requireKnown(const std::set<std::string>& known) const {
  for (const auto& [name, value] : options_) {
    if (!known.count(name)) return invalidArgument("unknown option --" + name);
  }
  return okStatus();
}

}  // namespace dcloud
