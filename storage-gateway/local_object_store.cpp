#include "storage-gateway/local_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

Error ioError(const std::string& what, const std::string& path) {
  return internalError(what + " " + path + ": " + std::strerror(errno));
}

Status makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return okStatus();
  return ioError("cannot create directory", path);
}

Status syncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ioError("cannot open directory", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ioError("cannot sync directory", path);
  return okStatus();
}

bool isSafeId(const std::string& id) {
  if (id.size() < 8 || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

class LocalWriter final : public ObjectWriter {
 public:
  LocalWriter(std::string id, std::string tmp_path, std::string final_dir, int fd)
      : id_(std::move(id)),
        tmp_path_(std::move(tmp_path)),
        final_dir_(std::move(final_dir)),
        fd_(fd) {}
  ~LocalWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!finished_) ::unlink(tmp_path_.c_str());
  }

  Status write(const char* data, std::size_t n) override {
    while (n > 0) {
      ssize_t w = ::write(fd_, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return ioError("cannot write", tmp_path_);
      }
      data += w;
      n -= static_cast<std::size_t>(w);
    }
    return okStatus();
  }

  Status finish() override {
    if (::fsync(fd_) != 0) return ioError("cannot sync", tmp_path_);
    ::close(fd_);
    fd_ = -1;
    DCLOUD_TRY(makeDir(final_dir_));
    const std::string final_path = final_dir_ + "/" + id_;
    if (::rename(tmp_path_.c_str(), final_path.c_str()) != 0) {
      return ioError("cannot rename into", final_path);
    }
    finished_ = true;
    return syncDir(final_dir_);
  }

  const std::string& id() const override { return id_; }

 private:
  std::string id_;
  std::string tmp_path_;
  std::string final_dir_;
  int fd_;
  bool finished_ = false;
};

class LocalReader final : public ObjectReader {
 public:
  LocalReader(int fd, std::int64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~LocalReader() override { ::close(fd_); }

  std::int64_t size() const override { return size_; }

  Result<std::size_t> read(char* out, std::size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, out, n);
      if (r >= 0) return static_cast<std::size_t>(r);
      if (errno != EINTR) return ioError("cannot read", path_);
    }
  }

  Status seek(std::int64_t offset) override {
    if (::lseek(fd_, offset, SEEK_SET) < 0) return ioError("cannot seek", path_);
    return okStatus();
  }

 private:
  int fd_;
  std::int64_t size_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::openDir(const std::string& data_dir,
                                                                    Random& random) {
  std::unique_ptr<LocalObjectStore> store(new LocalObjectStore(data_dir, random));
  DCLOUD_TRY(makeDir(data_dir));
  DCLOUD_TRY(makeDir(store->tmpDir()));
  DCLOUD_TRY(makeDir(store->objectsDir()));
  // Leftovers in tmp/ are uploads that never finished (a crash mid-upload): never visible.
  if (DIR* d = ::opendir(store->tmpDir().c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      ::unlink((store->tmpDir() + "/" + e->d_name).c_str());
    }
    ::closedir(d);
  }
  return store;
}

std::string LocalObjectStore::dataPath(const std::string& id) const {
  return objectsDir() + "/" + id.substr(0, 2) + "/" + id;
}

Result<std::unique_ptr<ObjectWriter>> LocalObjectStore::create() {
  const std::string id = random_.hex(16);
  const std::string tmp = tmpDir() + "/" + id;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ioError("cannot create", tmp);
  return std::unique_ptr<ObjectWriter>(
      new LocalWriter(id, tmp, objectsDir() + "/" + id.substr(0, 2), fd));
}

Result<std::unique_ptr<ObjectReader>> LocalObjectStore::open(const std::string& id) {
  if (!isSafeId(id)) return notFound("bad data id");
  const std::string path = dataPath(id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return notFound("no data for id " + id);
    return ioError("cannot open", path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return ioError("cannot stat", path);
  }
  return std::unique_ptr<ObjectReader>(new LocalReader(fd, st.st_size, path));
}

Status LocalObjectStore::remove(const std::string& id) {
  if (!isSafeId(id)) return invalidArgument("bad data id");
  const std::string path = dataPath(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ioError("cannot remove", path);
  return okStatus();
}

}  // namespace dcloud::gateway
