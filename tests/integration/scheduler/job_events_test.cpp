// Job events through real Redis: published events are queued and sent in batches, yet each job's
// stream holds its events in publishing order, and flush() waits until they are all there.
#include "tests/integration/scheduler/scheduler_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

class JobEventsTest : public SchedulerTest {};

TEST_F(JobEventsTest, EventsSentInBatchesKeepTheirOrderPerJob) {
  const std::vector<std::string> jobs = {SecureRandom::instance().uuid(),
                                         SecureRandom::instance().uuid(),
                                         SecureRandom::instance().uuid()};
  constexpr int kPerJob = 400;  // 1,200 in all: more than one call's worth
  for (int i = 0; i < kPerJob; ++i) {
    for (const auto& job : jobs) {
      JsonObject data = new Poco::JSON::Object;
      data->set("i", i);
      data->set("text", "line \"" + std::to_string(i) + "\"\n");
      ASSERT_TRUE(events_->publish(job, i + 1 == kPerJob ? "job.finished" : "log", data).ok());
    }
  }
  events_->flush();
  for (const auto& job : jobs) {
    std::vector<JobEvent> all;
    std::string after = "0";
    while (true) {
      auto page = events_->read(job, after, 0);
      ASSERT_TRUE(page.ok()) << page.error().message;
      if (page->empty()) break;
      after = page->back().id;
      all.insert(all.end(), page->begin(), page->end());
    }
    ASSERT_EQ(all.size(), static_cast<std::size_t>(kPerJob));
    for (int i = 0; i < kPerJob; ++i) {
      auto data = parseJsonObject(all[i].data);
      ASSERT_TRUE(data.ok());
      EXPECT_EQ((*data)->getValue<int>("i"), i);
      EXPECT_EQ((*data)->getValue<std::string>("text"), "line \"" + std::to_string(i) + "\"\n");
    }
    EXPECT_EQ(all.back().type, "job.finished");
  }
  auto none = events_->read(SecureRandom::instance().uuid(), "0", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace dcloud::scheduler::testing
