#pragma once
// ObjectStore on a local directory:
//   DIR/tmp/<id>          bytes being written (removed at start: uploads that never finished)
//   DIR/objects/<ab>/<id> finished data, ab = the id's first two characters
// finish() fsyncs the file, renames it into objects/ and fsyncs that directory.

#include <string>

#include "common/random.h"
#include "storage-gateway/object_store.h"

namespace dcloud::gateway {

class LocalObjectStore final : public ObjectStore {
 public:
  // Creates the directories and empties tmp/. Internal if they cannot be created.
  static Result<std::unique_ptr<LocalObjectStore>> openDir(const std::string& data_dir,
                                                           Random& random);

  Result<std::unique_ptr<ObjectWriter>> create() override;
  Result<std::unique_ptr<ObjectReader>> open(const std::string& id) override;
  Status remove(const std::string& id) override;

  // Path of the finished data for id (for tests).
  std::string dataPath(const std::string& id) const;
  std::string tmpDir() const { return dir_ + "/tmp"; }
  std::string objectsDir() const { return dir_ + "/objects"; }

 private:
  LocalObjectStore(std::string dir, Random& random) : dir_(std::move(dir)), random_(random) {}
  std::string dir_;
  Random& random_;
};

}  // namespace dcloud::gateway
