// Chunked, encrypted storage through the real gateway: round trips around chunk boundaries,
// ranged reads, deduplication, garbage collection (after delete, overwrite, abort, crashed
// writes, and racing a writer that reuses a chunk), tamper detection, copies that share chunks,
// and UploadPartCopy / ListParts / ListMultipartUploads driven by boto3 (multipart_client.py).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/s3_client.h"
#include "storage-gateway/chunk_layout.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"

namespace dcloud::gateway::testing {
namespace {

constexpr std::int64_t kChunk = static_cast<std::int64_t>(kChunkBytes);

class ChunkStorageTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    client_.emplace(endpoint(), alice_creds_, clock_);
  }
  // The chunk names of an object's data, in order.
  std::vector<std::string> chunksOf(const std::string& bucket, const std::string& key) {
    auto names = pool_->with<std::vector<std::string>>([&](pqxx::connection& c)
                                                           -> Result<std::vector<std::string>> {
      pqxx::read_transaction w(c);
      std::vector<std::string> out;
      for (const auto& r : w.exec_params(
               "SELECT bc.chunk FROM gateway.blob_chunks bc JOIN gateway.objects o ON "
               "o.data_id = bc.blob_id WHERE o.bucket = $1 AND o.key = $2 ORDER BY bc.\"offset\"",
               bucket, key)) {
        out.push_back(r[0].as<std::string>());
      }
      return out;
    });
    EXPECT_TRUE(names.ok());
    return names.ok() ? *names : std::vector<std::string>{};
  }
  static void flipByte(const std::string& path, std::int64_t at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char c = 0;
    f.get(c);
    f.seekp(at);
    f.put(static_cast<char>(c ^ 0x40));
  }
  void raceCollectorAndWriter(const std::string& data);
  HttpReply rangedGet(const std::string& path, const std::string& range) {
    return signedRequest(alice_creds_, "GET", path, "", {{"range", range}});
  }
  std::optional<S3Client> client_;
};

TEST_F(ChunkStorageTest, RoundTripsAroundChunkBoundaries) {
  ASSERT_TRUE(client_->createBucket("sizes").ok());
  const std::vector<std::int64_t> sizes = {0, 1, kChunk - 1, kChunk, kChunk + 1, 2 * kChunk + 5};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::string data = randomBytes(static_cast<std::size_t>(sizes[i]), 100 + i);
    const std::string key = "o" + std::to_string(sizes[i]);
    ASSERT_TRUE(client_->putObject("sizes", key, data).ok()) << key;
    Result<std::string> back = client_->getObject("sizes", key);
    ASSERT_TRUE(back.ok()) << key;
    EXPECT_TRUE(*back == data) << key << ": " << back->size() << " bytes back";
  }
  EXPECT_EQ(dataFiles(), sizes.size());
  // 0 + 1 + 1 + 1 + 2 + 3 chunks, all different.
  EXPECT_EQ(storedChunks(), 8u);
  // Nothing readable is left in the clear on disk.
  const std::string marker =
      randomBytes(static_cast<std::size_t>(2 * kChunk + 5), 105).substr(0, 64);
  for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir_)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(content.find(marker), std::string::npos) << e.path();
  }
}

TEST_F(ChunkStorageTest, RangedReadsAcrossChunkBoundaries) {
  ASSERT_TRUE(client_->createBucket("ranges").ok());
  const std::string data = randomBytes(static_cast<std::size_t>(2 * kChunk + 100), 7);
  ASSERT_TRUE(client_->putObject("ranges", "r", data).ok());
  struct Case {
    std::int64_t first, last;
  };
  for (const Case& c : {Case{kChunk - 10, kChunk + 10},
                        {0, 2 * kChunk + 99},
                        {kChunk, kChunk},
                        {2 * kChunk - 1, 2 * kChunk + 50},
                        {5, kChunk - 1},
                        {kChunk - 1, 2 * kChunk}}) {
    const std::string range = "bytes=" + std::to_string(c.first) + "-" + std::to_string(c.last);
    HttpReply r = rangedGet("/ranges/r", range);
    EXPECT_EQ(r.status, 206) << range;
    EXPECT_TRUE(r.body == data.substr(static_cast<std::size_t>(c.first),
                                      static_cast<std::size_t>(c.last - c.first + 1)))
        << range << ": " << r.body.size() << " bytes";
  }
  HttpReply suffix = rangedGet("/ranges/r", "bytes=-5");
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, data.substr(data.size() - 5));
}

TEST_F(ChunkStorageTest, DeduplicatesEqualChunksWithinABucketOnly) {
  ASSERT_TRUE(client_->createBucket("dedup1").ok());
  ASSERT_TRUE(client_->createBucket("dedup2").ok());
  const std::string data = randomBytes(static_cast<std::size_t>(2 * kChunk), 9);
  ASSERT_TRUE(client_->putObject("dedup1", "a", data).ok());
  ASSERT_TRUE(client_->putObject("dedup1", "b", data).ok());
  EXPECT_EQ(storedChunks(), 2u);
  // Same first chunk, new second one: one more file.
  const std::string mixed = data.substr(0, kChunk) + randomBytes(kChunk, 10);
  ASSERT_TRUE(client_->putObject("dedup1", "c", mixed).ok());
  EXPECT_EQ(storedChunks(), 3u);
  // Another bucket has its own key: same bytes, other names, no sharing.
  ASSERT_TRUE(client_->putObject("dedup2", "a", data).ok());
  EXPECT_EQ(storedChunks(), 5u);
  std::vector<std::string> one = chunksOf("dedup1", "a");
  std::vector<std::string> two = chunksOf("dedup2", "a");
  ASSERT_EQ(one.size(), 2u);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NE(one[0], two[0]);
  EXPECT_EQ(chunksOf("dedup1", "b"), one);
  EXPECT_EQ(chunksOf("dedup1", "c")[0], one[0]);
  for (const std::string key : {"a", "b", "c"}) {
    Result<std::string> back = client_->getObject("dedup1", key);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(*back == (key == "c" ? mixed : data)) << key;
  }
  // Deleting one of two objects sharing chunks keeps them for the other.
  ASSERT_EQ(signedRequest(alice_creds_, "DELETE", "/dedup1/a", "").status, 204);
  EXPECT_EQ(storedChunks(), 5u);
  Result<std::string> b = client_->getObject("dedup1", "b");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(*b == data);
}

TEST_F(ChunkStorageTest, CollectsChunksAfterDeleteOverwriteAndAbort) {
  ASSERT_TRUE(client_->createBucket("gcb").ok());
  ASSERT_TRUE(client_->putObject("gcb", "k", randomBytes(kChunk + 1, 11)).ok());
  EXPECT_EQ(storedChunks(), 2u);
  ASSERT_TRUE(client_->putObject("gcb", "k", "small").ok());
  EXPECT_EQ(storedChunks(), 1u);
  EXPECT_EQ(dataFiles(), 1u);
  ASSERT_EQ(signedRequest(alice_creds_, "DELETE", "/gcb/k", "").status, 204);
  EXPECT_EQ(storedChunks(), 0u);
  EXPECT_EQ(dataFiles(), 0u);

  HttpReply created = signedRequest(alice_creds_, "POST", "/gcb/mpu?uploads", "");
  ASSERT_EQ(created.status, 200);
  const std::size_t a = created.body.find("<UploadId>") + 10;
  const std::string upload = created.body.substr(a, created.body.find("</UploadId>") - a);
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/gcb/mpu?partNumber=1&uploadId=" + upload,
                          randomBytes(kChunk + 7, 12))
                .status,
            200);
  EXPECT_EQ(storedChunks(), 2u);
  ASSERT_EQ(signedRequest(alice_creds_, "DELETE", "/gcb/mpu?uploadId=" + upload, "").status, 204);
  EXPECT_EQ(storedChunks(), 0u);
  EXPECT_EQ(dataFiles(), 0u);
}

TEST_F(ChunkStorageTest, CollectsWhatCrashedWritesLeft) {
  // A write finished but never committed (the gateway died before the metadata commit).
  auto writer = objects_->create("crash");
  ASSERT_TRUE(writer.ok());
  const std::string data = randomBytes(2 * kChunk + 3, 13);
  ASSERT_TRUE((*writer)->write(data.data(), data.size()).ok());
  ASSERT_TRUE((*writer)->finish().ok());
  // A chunk file whose row was lost (the asynchronous row commit died with the machine).
  const std::string stray = objects_->chunksDir() + "/ab/ab" + std::string(62, '0');
  std::filesystem::create_directories(objects_->chunksDir() + "/ab");
  std::ofstream(stray) << "leftover";
  // And a temporary file of an interrupted chunk write, cleaned at start-up.
  std::ofstream(objects_->tmpDir() + "/0123abcd") << "partial";
  // Two 4 MiB chunk files and the stray; the 3-byte tail lives in its row.
  EXPECT_EQ(regularFilesUnder(objects_->chunksDir()), 3u);
  EXPECT_EQ(inlineChunks(), 1u);
  EXPECT_EQ(dataFiles(), 0u);
  EXPECT_EQ(storedChunks(), 0u);
  auto reopened = ChunkObjectStore::openDir(data_dir_, pool_, *master_, clock_, random_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(regularFilesUnder(objects_->tmpDir()), 0u);
}

TEST_F(ChunkStorageTest, TamperedChunksFailTheReadInsteadOfReturningWrongBytes) {
  ASSERT_TRUE(client_->createBucket("tamper").ok());
  // Kept in its row, and above the size whose bytes the recent-blob cache keeps (that would serve
  // what this gateway wrote, not what is stored).
  std::string small_data;
  while (small_data.size() <= ChunkObjectStore::kRecentInlineBytes) {
    small_data += "a small object of a few bytes ";
  }
  ASSERT_TRUE(client_->putObject("tamper", "small", small_data).ok());
  std::vector<std::string> small = chunksOf("tamper", "small");
  ASSERT_EQ(small.size(), 1u);
  // A small chunk lives in its row: flip a ciphertext byte there.
  ASSERT_TRUE(pool_
                  ->withStatus([&](pqxx::connection& c) -> Status {
                    pqxx::work w(c);
                    w.exec_params0(
                        "UPDATE gateway.chunks SET sealed = set_byte(sealed, 40, get_byte(sealed, "
                        "40) # 64) WHERE name = $1 AND sealed IS NOT NULL",
                        small[0]);
                    w.commit();
                    return okStatus();
                  })
                  .ok());
  HttpReply r = signedRequest(alice_creds_, "GET", "/tamper/small", "");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("a small object"), std::string::npos);

  // A big object whose second chunk is bad: a read starting there fails before any header; a
  // whole read stops short after the good first chunk (never a wrong byte).
  const std::string data = randomBytes(static_cast<std::size_t>(2 * kChunk + 1), 14);
  ASSERT_TRUE(client_->putObject("tamper", "big", data).ok());
  std::vector<std::string> big = chunksOf("tamper", "big");
  ASSERT_EQ(big.size(), 3u);
  flipByte(objects_->chunkPath(big[1]), static_cast<std::int64_t>(kChunk / 2));
  EXPECT_EQ(rangedGet("/tamper/big", "bytes=" + std::to_string(kChunk + 5) + "-").status, 500);
  HttpReply whole = signedRequest(alice_creds_, "GET", "/tamper/big", "");
  EXPECT_EQ(whole.status, 200);
  EXPECT_LT(whole.body.size(), data.size());
  EXPECT_TRUE(whole.body == data.substr(0, whole.body.size()));
  // S3Client sees the short body against Content-Length and fails instead of returning it, and
  // getFile leaves neither the file nor its .part behind.
  Result<std::string> cut = client_->getObject("tamper", "big");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(cut.error().message.find("cut short"), std::string::npos) << cut.error().message;
  const std::string file = temp_dir_ + "/big.down";
  Result<std::int64_t> cut_file = client_->getFile("tamper", "big", file);
  ASSERT_FALSE(cut_file.ok());
  EXPECT_NE(cut_file.error().message.find("cut short"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_FALSE(std::filesystem::exists(file + ".part"));
  // An intact object of the same size (other bytes: no shared chunks) still reads whole.
  const std::string other = randomBytes(data.size(), 99);
  ASSERT_TRUE(client_->putObject("tamper", "fine", other).ok());
  Result<std::string> fine = client_->getObject("tamper", "fine");
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_TRUE(*fine == other);
  // Another valid chunk file put in the place of the first: the name binds it, it does not open.
  std::vector<std::string> fine_chunks = chunksOf("tamper", "fine");
  ASSERT_EQ(fine_chunks.size(), 3u);
  std::filesystem::copy_file(objects_->chunkPath(fine_chunks[0]), objects_->chunkPath(big[0]),
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(rangedGet("/tamper/big", "bytes=0-9").status, 500);
}

TEST_F(ChunkStorageTest, CopiesShareChunksWithinABucket) {
  ASSERT_TRUE(client_->createBucket("copy1").ok());
  ASSERT_TRUE(client_->createBucket("copy2").ok());
  const std::string data = randomBytes(static_cast<std::size_t>(2 * kChunk + 9), 15);
  ASSERT_TRUE(client_->putObject("copy1", "src", data).ok());
  EXPECT_EQ(storedChunks(), 3u);
  HttpReply same =
      signedRequest(alice_creds_, "PUT", "/copy1/dst", "", {{"x-amz-copy-source", "/copy1/src"}});
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_NE(same.body.find(md5Hex(data)), std::string::npos) << same.body;
  EXPECT_EQ(storedChunks(), 3u);
  HttpReply other =
      signedRequest(alice_creds_, "PUT", "/copy2/dst", "", {{"x-amz-copy-source", "/copy1/src"}});
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(storedChunks(), 6u);
  // The copies outlive the source.
  ASSERT_EQ(signedRequest(alice_creds_, "DELETE", "/copy1/src", "").status, 204);
  EXPECT_EQ(storedChunks(), 6u);
  for (const std::string bucket : {"copy1", "copy2"}) {
    Result<std::string> back = client_->getObject(bucket, "dst");
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(*back == data) << bucket;
  }
}

// The race the collector must survive: a writer reuses a chunk that the collector is deleting.
// The collector holds the chunk's row lock while it removes the file; the writer's upsert waits
// for it, then finds the row gone, stores a new one and writes the file again.
void ChunkStorageTest::raceCollectorAndWriter(const std::string& data) {
  const bool in_row = data.size() <= kInlineChunkBytes;
  auto first = objects_->create("race");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->write(data.data(), data.size()).ok());
  ASSERT_TRUE((*first)->finish().ok());
  Result<BlobInfo> stored = objects_->index().blob((*first)->id(), 1);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->first_refs.size(), 1u);
  EXPECT_EQ(stored->first_refs[0].sealed.empty(), !in_row);
  ASSERT_TRUE(objects_->remove((*first)->id()).ok());
  const std::int64_t cutoff = clock_.nowMillis() + 1000;
  ASSERT_TRUE(objects_->index().dropBlobs(cutoff).ok());
  auto unreferenced = objects_->index().unreferencedChunks(cutoff, 10);
  ASSERT_TRUE(unreferenced.ok());
  const std::vector<std::string> names_only = {stored->first_refs[0].name};
  ASSERT_NE(std::find(unreferenced->begin(), unreferenced->end(), names_only[0]),
            unreferenced->end());
  const std::vector<std::string>* names = &names_only;
  const std::string path = objects_->chunkPath(names_only[0]);

  std::string second_id;
  Status second_status = internalError("not run");
  std::thread writer;
  auto waiters = [&]() {
    auto n = pool_->with<std::int64_t>([](pqxx::connection& c) -> Result<std::int64_t> {
      pqxx::read_transaction w(c);
      return w
          .exec(
              "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
              "AND wait_event_type = 'Lock'")[0][0]
          .as<std::int64_t>();
    });
    return n.ok() ? *n : -1;
  };
  auto collected = objects_->index().collectChunks(
      *names, cutoff, [&](const std::vector<std::string>& dead) -> Status {
        EXPECT_EQ(dead.size(), 1u);
        writer = std::thread([&] {
          auto w = objects_->create("race");
          if (!w.ok()) return;
          second_id = (*w)->id();
          second_status = (*w)->write(data.data(), data.size());
          if (second_status.ok()) second_status = (*w)->finish();
        });
        // The writer is blocked on the row lock held here (polled, bounded).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (waiters() < 1 && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::yield();
        }
        EXPECT_EQ(waiters(), 1);
        EXPECT_EQ(std::filesystem::exists(path), !in_row);
        std::filesystem::remove(path);
        return okStatus();
      });
  writer.join();
  ASSERT_TRUE(collected.ok()) << collected.error().message;
  EXPECT_EQ(*collected, 1);
  ASSERT_TRUE(second_status.ok()) << second_status.error().message;
  EXPECT_EQ(std::filesystem::exists(path), !in_row);
  EXPECT_EQ(inlineChunks(), in_row ? 1u : 0u);
  auto reader = objects_->open(second_id);
  ASSERT_TRUE(reader.ok());
  std::string back(data.size(), '\0');
  ASSERT_TRUE((*reader)->seek(0).ok());
  auto got = (*reader)->read(back.data(), back.size());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(back.substr(0, *got), data);
  // And a collection now keeps the chunk: it is referenced.
  auto again =
      objects_->index().collectChunks(*names, clock_.nowMillis() + 1000,
                                      [](const std::vector<std::string>&) { return okStatus(); });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

// A chunk in a file, and a small one kept in its row (the collector deletes the row with its
// bytes; the waiting writer's upsert then stores them again).
TEST_F(ChunkStorageTest, CollectorAndAWriterReusingTheChunkDoNotLoseData) {
  raceCollectorAndWriter(randomBytes(kInlineChunkBytes + 1, 21));
  raceCollectorAndWriter("bytes both writers store");
}

TEST_F(ChunkStorageTest, UploadPartCopyAndListingsWithBoto3) {
  ASSERT_TRUE(client_->createBucket("mpc").ok());
  CommandResult r =
      runCommand({"/usr/bin/python3", std::string(DCLOUD_GATEWAY_TEST_DIR) + "/multipart_client.py",
                  endpoint(), "mpc"},
                 {{"AWS_ACCESS_KEY_ID", alice_creds_.access_key},
                  {"AWS_SECRET_ACCESS_KEY", alice_creds_.secret_key},
                  {"AWS_CONFIG_FILE", "/dev/null"},
                  {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                  {"AWS_EC2_METADATA_DISABLED", "true"}});
  EXPECT_EQ(r.rc, 0) << r.out << "\n" << r.err;
  EXPECT_NE(r.out.find("ALL OK"), std::string::npos) << r.out << "\n" << r.err;
  // src (12 MiB + 3: 4 chunks) and dst; dst re-wrote only the unaligned edges of its ranges
  // (4 MiB and 1 MiB + 1000 bytes of the first part, the 3 bytes of the last): 3 new chunks,
  // the whole-object part and the completion only reference chunks.
  EXPECT_EQ(dataFiles(), 2u);
  EXPECT_EQ(storedChunks(), 7u);
}

}  // namespace
}  // namespace dcloud::gateway::testing
