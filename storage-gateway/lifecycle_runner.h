#pragma once
// Applies the buckets' lifecycle rules (lifecycle_rules.h): expires current versions (a delete
// marker in versioned buckets, removal in unversioned ones), removes noncurrent versions and
// expired delete markers, aborts old multipart uploads. Versions under Object Lock are left alone
// (the metadata store refuses to remove them). Time comes from the injected clock, so a test runs
// one pass with runOnce() after advancing a ManualClock; the gateway runs passes on a thread.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "storage-gateway/metadata_store.h"
#include "storage-gateway/object_store.h"

namespace dcloud::gateway {

struct LifecycleStats {
  int buckets = 0;
  int expired = 0;           // current versions expired
  int versions_removed = 0;  // noncurrent versions and delete markers removed
  int uploads_aborted = 0;
  int skipped_locked = 0;  // removals refused by Object Lock
  int errors = 0;
};

class LifecycleRunner {
 public:
  LifecycleRunner(MetadataStore& metadata, ObjectStore& objects, const Clock& clock,
                  Random& random);
  ~LifecycleRunner();
  LifecycleRunner(const LifecycleRunner&) = delete;
  LifecycleRunner& operator=(const LifecycleRunner&) = delete;

  // One pass over every bucket with a lifecycle configuration. Errors of single keys are logged
  // and counted; a failure to list the buckets is returned.
  Result<LifecycleStats> runOnce();
  // Runs a pass every interval_seconds on a thread until stop().
  void start(int interval_seconds);
  void stop();

 private:
  Status runBucket(const std::string& bucket, const std::string& document, LifecycleStats& stats);

  MetadataStore& metadata_;
  ObjectStore& objects_;
  const Clock& clock_;
  Random& random_;
  Logger log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dcloud::gateway
