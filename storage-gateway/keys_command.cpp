#include <iostream>
#include <memory>

#include "common/args.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/pg.h"
#include "common/random.h"
#include "storage-gateway/access_keys.h"
#include "storage-gateway/commands.h"
#include "storage-gateway/master_key.h"
#include "storage-gateway/pg_metadata_store.h"

namespace dcloud::gateway {

std::vector<std::string> repeatedOption(const std::vector<std::string>& argv,
                                        const std::string& name) {
  std::vector<std::string> out;
  const std::string flag = "--" + name;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--") break;
    if (argv[i] == flag && i + 1 < argv.size())
      out.push_back(argv[++i]);
    else if (argv[i].rfind(flag + "=", 0) == 0)
      out.push_back(argv[i].substr(flag.size() + 1));
  }
  return out;
}

int runKeys(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  Result<Args> args = Args::parse(argv);
  if (!args.ok()) {
    err << args.error().message << "\n";
    return 2;
  }
  const std::vector<std::string>& pos = args->positional();
  const std::string sub = pos.size() >= 2 ? pos[1] : "";
  Status known = args->requireKnown(
      {"db", "master-key-file", "principal", "access-key", "secret", "display-name"});
  if (!known.ok() || (sub != "create" && sub != "list" && sub != "revoke") || !args->has("db")) {
    if (!known.ok()) err << known.error().message << "\n";
    err << "usage: dcloud-gateway keys create --db C --master-key-file F --principal ID "
           "[--access-key K --secret S] [--display-name N]\n"
           "       dcloud-gateway keys list --db C\n"
           "       dcloud-gateway keys revoke --db C --access-key K\n";
    return 2;
  }
  Logger log("gateway");
  const std::string db = *args->get("db");
  if (Status st = applyEmbeddedMigrations(db, log); !st.ok()) {
    err << "migrations failed: " << st.error().toString() << "\n";
    return 1;
  }
  Result<std::unique_ptr<PgPool>> pool = PgPool::connect(db, 1);
  if (!pool.ok()) {
    err << pool.error().toString() << "\n";
    return 1;
  }
  PgMetadataStore store(std::shared_ptr<PgPool>(std::move(*pool)));

  if (sub == "list") {
    Result<std::vector<AccessKeyRow>> rows = store.listAccessKeys();
    if (!rows.ok()) {
      err << rows.error().toString() << "\n";
      return 1;
    }
    for (const AccessKeyRow& r : *rows) {
      out << "access_key=" << r.access_key << " principal=" << r.principal
          << " display_name=" << r.display_name << " scope=" << r.scope_json.value_or("null")
          << " expires_at_ms=" << (r.expires_at_ms ? std::to_string(*r.expires_at_ms) : "never")
          << " revoked=" << (r.revoked ? "true" : "false") << "\n";
    }
    return 0;
  }
  if (sub == "revoke") {
    std::optional<std::string> key = args->get("access-key");
    if (!key) {
      err << "keys revoke needs --access-key\n";
      return 2;
    }
    if (Status st = store.revokeAccessKey(*key); !st.ok()) {
      err << st.error().toString() << "\n";
      return 1;
    }
    out << "revoked " << *key << "\n";
    return 0;
  }

  std::optional<std::string> key_file = args->get("master-key-file");
  std::optional<std::string> principal = args->get("principal");
  if (!key_file || !principal || args->has("access-key") != args->has("secret")) {
    err << "keys create needs --master-key-file and --principal; --access-key and --secret go "
           "together\n";
    return 2;
  }
  Result<MasterKey> master = MasterKey::loadOrCreate(*key_file, SecureRandom::instance());
  if (!master.ok()) {
    err << master.error().toString() << "\n";
    return 1;
  }
  AccessKeys keys(store, *master, SystemClock::instance(), SecureRandom::instance());
  NewAccessKey request;
  request.principal = *principal;
  request.display_name = args->get("display-name").value_or(*principal);
  request.access_key = args->get("access-key");
  request.secret_key = args->get("secret");
  Result<IssuedAccessKey> issued = keys.create(request);
  if (!issued.ok()) {
    err << issued.error().toString() << "\n";
    return 1;
  }
  out << "access_key=" << issued->access_key << "\nsecret_key=" << issued->secret_key << "\n";
  return 0;
}

}  // namespace dcloud::gateway
