#pragma once
// The dcloud-ledger command line: serve, mint, verify, keygen. Kept in the library so tests can
// run it in-process; main.cpp only forwards argv.

namespace dcloud::ledger {

// Returns the process exit code: 0 success, 1 verification failed or the command failed,
// 2 usage error.
int runLedgerCli(int argc, const char* const* argv);

}  // namespace dcloud::ledger
