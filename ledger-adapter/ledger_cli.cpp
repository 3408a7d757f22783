#include "ledger-adapter/ledger_cli.h"

#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "common/args.h"
#include "common/clock.h"
#include "common/identity.h"
#include "common/log.h"
#include "common/money.h"
#include "common/pg.h"
#include "common/service.h"
#include "ledger-adapter/ledger_service.h"
#include "ledger-adapter/pg_ledger_store.h"

namespace dcloud::ledger {
namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  dcloud-ledger serve  --db CONNINFO --key KEY_FILE [--treasury ID] [--host 127.0.0.1]\n"
    "                       [--port 0] [--port-file F] [--batch 500] [--poll-ms 500]\n"
    "  dcloud-ledger mint   --db CONNINFO --key KEY_FILE --to ID --amount CREDITS\n"
    "  dcloud-ledger verify --db CONNINFO [--signer ID]\n"
    "  dcloud-ledger keygen --out KEY_FILE\n"
    "--db falls back to $DCLOUD_LEDGER_DB, --key to $DCLOUD_LEDGER_KEY.\n";

int usage(const std::string& problem) {
  std::cerr << "dcloud-ledger: " << problem << "\n" << kUsage;
  return 2;
}

int fail(const std::string& what, const Error& e) {
  std::cerr << "dcloud-ledger: " << what << ": " << e.toString() << "\n";
  return 1;
}

std::optional<std::string> required(const Args& args, const std::string& name,
                                    const std::string& env) {
  std::string v = args.get(name, env, "");
  if (v.empty()) return std::nullopt;
  return v;
}

int runServe(const Args& args) {
  if (Status known = args.requireKnown(
          {"db", "key", "treasury", "host", "port", "port-file", "batch", "poll-ms"});
      !known) {
    return usage(known.error().message);
  }
  auto db = required(args, "db", "DCLOUD_LEDGER_DB");
  auto key_file = required(args, "key", "DCLOUD_LEDGER_KEY");
  if (!db || !key_file) return usage("serve needs --db and --key");
  Result<long long> port = args.getInt("port", 0);
  Result<long long> batch = args.getInt("batch", 500);
  Result<long long> poll = args.getInt("poll-ms", 500);
  if (!port || *port < 0 || *port > 65535) return usage("--port must be 0..65535");
  if (!batch || *batch < 1 || *batch > 100000) return usage("--batch must be 1..100000");
  if (!poll || *poll < 1 || *poll > 3600000) return usage("--poll-ms must be 1..3600000");

  Logger log("ledger");
  Result<KeyPair> key = KeyPair::load(*key_file);
  if (!key) return fail("loading the ledger key", key.error());
  if (Status migrated = applyEmbeddedMigrations(*db, log); !migrated) {
    return fail("applying migrations", migrated.error());
  }
  LedgerServiceConfig config;
  config.conninfo = *db;
  config.treasury = args.get("treasury").value_or("");
  config.batch = static_cast<std::size_t>(*batch);
  config.poll_millis = static_cast<int>(*poll);
  config.api.host = args.get("host").value_or("127.0.0.1");
  config.api.port = static_cast<std::uint16_t>(*port);
  LedgerService service(config, *key, SystemClock::instance());
  if (Status started = service.start(); !started) return fail("starting", started.error());
  if (auto port_file = args.get("port-file")) {
    if (Status written = writePortFile(*port_file, service.port()); !written) {
      service.stop();
      return fail("writing the port file", written.error());
    }
  }
  int signal = waitForTerminationSignal();
  log.info("signal " + std::to_string(signal) + ", stopping");
  service.stop();
  return 0;
}

int runMint(const Args& args) {
  if (Status known = args.requireKnown({"db", "key", "to", "amount"}); !known) {
    return usage(known.error().message);
  }
  auto db = required(args, "db", "DCLOUD_LEDGER_DB");
  auto key_file = required(args, "key", "DCLOUD_LEDGER_KEY");
  auto to = args.get("to");
  auto amount_text = args.get("amount");
  if (!db || !key_file || !to || !amount_text) {
    return usage("mint needs --db, --key, --to and --amount");
  }
  // Check the input before touching the database, so bad input appends nothing.
  Result<Micros> amount = parseMicros(*amount_text);
  if (!amount) return usage("bad --amount: " + amount.error().message);
  Transaction tx = makeMint(*to, *amount);
  if (Status valid = validateTransaction(tx); !valid) return usage(valid.error().message);

  Logger log("ledger");
  Result<KeyPair> key = KeyPair::load(*key_file);
  if (!key) return fail("loading the ledger key", key.error());
  if (Status migrated = applyEmbeddedMigrations(*db, log); !migrated) {
    return fail("applying migrations", migrated.error());
  }
  Result<std::unique_ptr<PgPool>> pool = PgPool::connect(*db, 1);
  if (!pool) return fail("connecting", pool.error());
  PgLedgerStore store(std::shared_ptr<PgPool>(std::move(*pool)), *key, SystemClock::instance());
  Result<Block> block = store.append({tx});
  if (!block) return fail("mint", block.error());
  std::cout << block->height << "\n";
  return 0;
}

int runVerify(const Args& args) {
  if (Status known = args.requireKnown({"db", "signer"}); !known) {
    return usage(known.error().message);
  }
  auto db = required(args, "db", "DCLOUD_LEDGER_DB");
  if (!db) return usage("verify needs --db");
  std::optional<std::string> signer = args.get("signer");
  if (signer && !isValidPrincipalId(*signer)) return usage("malformed --signer id");
  Result<std::unique_ptr<PgPool>> pool = PgPool::connect(*db, 1);
  if (!pool) return fail("connecting", pool.error());
  Result<ChainSummary> summary = verifyStoredChain(**pool, signer);
  if (!summary) {
    std::cout << "bad " << summary.error().message << "\n";
    return 1;
  }
  std::cout << "ok height=" << summary->height << " head=" << summary->head_hash << "\n";
  return 0;
}

int runKeygen(const Args& args) {
  if (Status known = args.requireKnown({"out"}); !known) return usage(known.error().message);
  auto out = args.get("out");
  if (!out) return usage("keygen needs --out");
  KeyPair key = KeyPair::generate();
  if (Status saved = key.save(*out); !saved) return fail("saving the key", saved.error());
  std::cout << key.id() << "\n";
  return 0;
}

}  // namespace

int runLedgerCli(int argc, const char* const* argv) {
  Result<Args> args = Args::parse(argc, argv);
  if (!args) return usage(args.error().message);
  if (args->positional().size() != 1) return usage("expected one command");
  const std::string& command = args->positional()[0];
  if (command == "serve") return runServe(*args);
  if (command == "mint") return runMint(*args);
  if (command == "verify") return runVerify(*args);
  if (command == "keygen") return runKeygen(*args);
  return usage("unknown command '" + command + "'");
}

}  // namespace dcloud::ledger
