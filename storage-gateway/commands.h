#pragma once
// The dcloud-gateway commands, callable from the thin main and from tests:
//   dcloud-gateway serve --db CONNINFO --redis HOST:PORT [--redis-db N] --data-dir DIR
//       --master-key-file F [--host 127.0.0.1] [--port 0] [--port-file F] [--region us-east-1]
//       [--admin ID]... [--domain D[,D...]]... [--tls-cert PEM --tls-key PEM
//       [--tls-port N] [--tls-port-file F]]
//     --domain: virtual-host-style buckets on "<bucket>.D"; --tls-*: HTTPS instead of HTTP on
//     --port, or next to it on --tls-port. [--lifecycle-interval-seconds 3600]: how often bucket
//     lifecycle rules are applied.
//   dcloud-gateway keys create --db C --master-key-file F --principal ID
//       [--access-key K --secret S] [--display-name N]      prints access_key=... secret_key=...
//   dcloud-gateway keys list --db C
//   dcloud-gateway keys revoke --db C --access-key K
// Each returns the process exit code: 0 ok, 1 runtime failure, 2 usage error.

#include <ostream>
#include <string>
#include <vector>

namespace dcloud::gateway {

// argv without the program name, e.g. {"serve", "--db", ...}.
int runServe(const std::vector<std::string>& argv);
int runKeys(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
// Every value of a repeatable option ("--admin A --admin=B").
std::vector<std::string> repeatedOption(const std::vector<std::string>& argv,
                                        const std::string& name);

}  // namespace dcloud::gateway
