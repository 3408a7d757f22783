// dcloud-ledger: the ledger adapter (settlement service) and its operator commands.
#include "common/service.h"
#include "ledger-adapter/ledger_cli.h"

int main(int argc, char** argv) {
  // Before any thread starts, so only waitForTerminationSignal sees SIGTERM/SIGINT.
  dcloud::blockTerminationSignals();
  return dcloud::ledger::runLedgerCli(argc, argv);
}
