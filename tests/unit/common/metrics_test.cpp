#include "common/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace dcloud {
namespace {

TEST(MetricsTest, CounterRendering) {
  MetricsRegistry m;
  m.counter("jobs_total", "Jobs submitted", {{"region", "eu"}}).inc();
  m.counter("jobs_total", "ignored: help is recorded once", {{"region", "eu"}}).inc(2);
  m.counter("jobs_total", "", {{"region", "us"}}).inc();
  EXPECT_EQ(m.renderPrometheus(),
            "# HELP jobs_total Jobs submitted\n"
            "# TYPE jobs_total counter\n"
            "jobs_total{region=\"eu\"} 3\n"
            "jobs_total{region=\"us\"} 1\n");
}

TEST(MetricsTest, SameNameAndLabelsGiveTheSameInstrument) {
  MetricsRegistry m;
  Counter& a = m.counter("c", "h", {{"a", "1"}, {"b", "2"}});
  Counter& b = m.counter("c", "h", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &m.counter("c", "h", {{"a", "1"}}));
  EXPECT_EQ(&m.gauge("g", "h"), &m.gauge("g", "h"));
  EXPECT_EQ(&m.histogram("h", "h"), &m.histogram("h", "h"));
}

TEST(MetricsTest, GaugeRendering) {
  MetricsRegistry m;
  Gauge& g = m.gauge("queue_depth", "Tasks waiting");
  g.set(10);
  g.add(-2.5);
  EXPECT_EQ(g.value(), 7.5);
  EXPECT_EQ(m.renderPrometheus(),
            "# HELP queue_depth Tasks waiting\n# TYPE queue_depth gauge\nqueue_depth 7.5\n");
}

TEST(MetricsTest, HistogramRendering) {
  MetricsRegistry m;
  Histogram& h = m.histogram("latency_seconds", "Latency", {{"route", "/v1/jobs"}}, {1, 0.5, 2.5});
  for (double v : {0.1, 0.5, 0.7, 3.0}) h.observe(v);
  EXPECT_EQ(h.bounds(), (std::vector<double>{0.5, 1, 2.5}));
  EXPECT_EQ(h.bucketCounts(), (std::vector<std::uint64_t>{2, 3, 3, 4}));
  EXPECT_EQ(h.count(), 4u);
  EXPECT_DOUBLE_EQ(h.sum(), 4.3);
  const std::string text = m.renderPrometheus();
  const std::string expected_head =
      "# HELP latency_seconds Latency\n"
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{route=\"/v1/jobs\",le=\"0.5\"} 2\n"
      "latency_seconds_bucket{route=\"/v1/jobs\",le=\"1\"} 3\n"
      "latency_seconds_bucket{route=\"/v1/jobs\",le=\"2.5\"} 3\n"
      "latency_seconds_bucket{route=\"/v1/jobs\",le=\"+Inf\"} 4\n"
      "latency_seconds_sum{route=\"/v1/jobs\"} ";
  ASSERT_EQ(text.substr(0, expected_head.size()), expected_head) << text;
  EXPECT_NE(text.find("\nlatency_seconds_count{route=\"/v1/jobs\"} 4\n"), std::string::npos)
      << text;
}

TEST(MetricsTest, DefaultHistogramBucketsRenderAsWritten) {
  MetricsRegistry m;
  m.histogram("d", "h").observe(0.02);
  const std::string text = m.renderPrometheus();
  for (const char* le : {"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "30"}) {
    EXPECT_NE(text.find("d_bucket{le=\"" + std::string(le) + "\"}"), std::string::npos)
        << le << " in\n"
        << text;
  }
  EXPECT_NE(text.find("d_bucket{le=\"0.01\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_bucket{le=\"0.05\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_sum 0.02\n"), std::string::npos) << text;
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  MetricsRegistry m;
  m.counter("c", "h", {{"path", "a\"b\\c\nd"}}).inc();
  EXPECT_NE(m.renderPrometheus().find("c{path=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos)
      << m.renderPrometheus();
}

TEST(MetricsTest, FamiliesAreSortedByName) {
  MetricsRegistry m;
  m.gauge("zeta", "z").set(1);
  m.counter("alpha", "a").inc();
  const std::string text = m.renderPrometheus();
  EXPECT_LT(text.find("# HELP alpha"), text.find("# HELP zeta"));
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry m;
  Counter& c = m.counter("c", "h");
  Histogram& h = m.histogram("h", "h", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40'000);
  EXPECT_EQ(h.count(), 40'000u);
  EXPECT_EQ(h.bucketCounts().front(), 40'000u);
}

}  // namespace
}  // namespace dcloud
