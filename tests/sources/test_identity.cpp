// Identity stitching: components equal a breadth-first search, the shared-id guard, identity files,
// and the GPU twin against the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "host/core/splitmix64.hpp"
#include "journeymap/common.hpp"
#include "journeymap/identity.hpp"
#include "test_helpers.hpp"

namespace {

// Reference labelling: breadth-first search from each unlabelled id in increasing order, so every
// component is labelled by its smallest id; dropped ids get -1 and carry no links.
std::vector<int32_t> components_by_search(int32_t n, const std::vector<int32_t>& a, const std::vector<int32_t>& b,
                                          const std::vector<uint8_t>& dropped) {
  std::vector<std::vector<int32_t>> adjacent(static_cast<size_t>(n));
  for (size_t e = 0; e < a.size(); ++e) {
    if (dropped[static_cast<size_t>(a[e])] || dropped[static_cast<size_t>(b[e])]) continue;
    adjacent[static_cast<size_t>(a[e])].push_back(b[e]);
    adjacent[static_cast<size_t>(b[e])].push_back(a[e]);
  }
  std::vector<int32_t> label(static_cast<size_t>(n), -2);
  for (int32_t start = 0; start < n; ++start) {
    if (label[static_cast<size_t>(start)] != -2) continue;
    if (dropped[static_cast<size_t>(start)]) {
      label[static_cast<size_t>(start)] = -1;
      continue;
    }
    std::deque<int32_t> queue{start};
    label[static_cast<size_t>(start)] = start;
    while (!queue.empty()) {
      const int32_t id = queue.front();
      queue.pop_front();
      for (const int32_t next : adjacent[static_cast<size_t>(id)])
        if (label[static_cast<size_t>(next)] == -2) {
          label[static_cast<size_t>(next)] = start;
          queue.push_back(next);
        }
    }
  }
  return label;
}

struct RandomGraph {
  int32_t n = 0;
  std::vector<int32_t> a, b;
  std::vector<uint8_t> dropped;
};

// Many small components, a few long chains added in decreasing order (the hard case for hooking),
// self-links and repeated links.
RandomGraph random_graph(uint64_t seed, int32_t n) {
  jm::SplitMix64 rng(seed);
  RandomGraph graph;
  graph.n = n;
  for (int32_t e = 0; e < n; ++e) {
    const auto x = static_cast<int32_t>(rng.below(static_cast<uint64_t>(n)));
    const auto y = static_cast<int32_t>(std::min<uint64_t>(static_cast<uint64_t>(n) - 1, x + rng.below(40)));
    graph.a.push_back(x);
    graph.b.push_back(rng.below(10) == 0 ? x : y);
  }
  for (int32_t id = n - 1; id > n - 300; --id) {
    graph.a.push_back(id);
    graph.b.push_back(id - 1);
  }
  graph.a.insert(graph.a.end(), graph.a.begin(), graph.a.begin() + 50);
  graph.b.insert(graph.b.end(), graph.b.begin(), graph.b.begin() + 50);
  graph.dropped.assign(static_cast<size_t>(n), 0);
  for (int k = 0; k < 20; ++k) graph.dropped[rng.below(static_cast<uint64_t>(n))] = 1;
  return graph;
}

TEST(IdentityComponents, CpuEqualsBreadthFirstSearch) {
  for (const uint64_t seed : {1u, 2u, 3u}) {
    const RandomGraph graph = random_graph(seed, 5000);
    EXPECT_EQ(jm::cpu_impl::connected_components(graph.n, graph.a, graph.b, graph.dropped),
              components_by_search(graph.n, graph.a, graph.b, graph.dropped))
        << "seed " << seed;
  }
}

TEST(IdentityComponents, GpuEqualsCpu) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  const jm::Context gpu = jm::make_context(jm::Backend::Gpu);
  for (const uint64_t seed : {1u, 2u, 3u}) {
    const RandomGraph graph = random_graph(seed, 200000);
    EXPECT_EQ(jm::cuda_impl::connected_components(gpu, graph.n, graph.a, graph.b, graph.dropped),
              jm::cpu_impl::connected_components(graph.n, graph.a, graph.b, graph.dropped))
        << "seed " << seed;
  }
}

// cookies c0..c59 all carry the placeholder email "unknown"; c0-e0 and c1-e1 are real logins.
jm::IdentityGraph graph_with_placeholder(int cookies) {
  jm::IdentityGraph graph;
  const int32_t unknown = graph.add_id("email", "unknown");
  for (int c = 0; c < cookies; ++c) {
    const int32_t cookie = graph.add_id("cookie", "c" + std::to_string(c));
    graph.add_link(cookie, unknown);
    graph.add_link(cookie, unknown);  // a second event with the same pair is one partner
  }
  graph.add_link(graph.find_id("cookie", "c0"), graph.add_id("email", "e0"));
  graph.add_link(graph.find_id("cookie", "c1"), graph.add_id("email", "e1"));
  return graph;
}

TEST(IdentityStitching, GuardDropsIdsWithTooManyPartners) {
  const jm::Context cpu = jm::make_context(jm::Backend::Cpu);
  const jm::IdentityGraph graph = graph_with_placeholder(60);
  jm::IdentityOptions options;
  options.max_links_per_id = 50;
  const jm::IdentityComponents guarded = jm::stitch_identities(cpu, graph, options);
  ASSERT_EQ(guarded.dropped.size(), 1u);
  EXPECT_EQ(guarded.dropped[0].kind, "email");
  EXPECT_EQ(guarded.dropped[0].value, "unknown");
  EXPECT_EQ(guarded.dropped[0].links, 60);
  EXPECT_EQ(guarded.component[static_cast<size_t>(graph.find_id("email", "unknown"))], -1);
  // 58 lone cookies + {c0, e0} + {c1, e1}
  EXPECT_EQ(guarded.n_components, 60);
  EXPECT_EQ(guarded.largest_component, 2);
  EXPECT_NE(guarded.component[static_cast<size_t>(graph.find_id("cookie", "c0"))],
            guarded.component[static_cast<size_t>(graph.find_id("cookie", "c1"))]);

  options.max_links_per_id = 0;  // no guard: the placeholder merges everyone
  const jm::IdentityComponents unguarded = jm::stitch_identities(cpu, graph, options);
  EXPECT_TRUE(unguarded.dropped.empty());
  EXPECT_EQ(unguarded.n_components, 1);
  EXPECT_EQ(unguarded.largest_component, 63);

  options.max_links_per_id = 60;  // exactly at the limit: kept
  EXPECT_TRUE(jm::stitch_identities(cpu, graph, options).dropped.empty());
  options.max_links_per_id = -1;
  EXPECT_THROW(jm::stitch_identities(cpu, graph, options), jm::ConfigError);
}

TEST(IdentityStitching, KindsSeparateEqualValues) {
  jm::IdentityGraph graph;
  const int32_t cookie = graph.add_id("cookie", "42"), crm = graph.add_id("crm", "42");
  EXPECT_NE(cookie, crm);
  EXPECT_EQ(graph.add_id("cookie", "42"), cookie);
  EXPECT_EQ(graph.display(crm), "crm:42");
  EXPECT_EQ(graph.kind_index(crm), 1);
  EXPECT_EQ(graph.find_id("email", "42"), -1);
  EXPECT_THROW(graph.add_id("a:b", "1"), jm::ConfigError);
  EXPECT_THROW(graph.add_id("", "1"), jm::ConfigError);
}

TEST(IdentityFile, ReadsPairsWithSelfLinksAndCycles) {
  const auto dir = jm::testing::scratch_dir();
  const std::string path = jm::testing::write_file(dir / "ids.csv",
                                                   "kind_b,id_b,kind_a,id_a\n"
                                                   "email,e1,cookie,c1\n"
                                                   "cookie,c1,cookie,c1\n"  // self-link
                                                   "crm,\"R,1\",email,e1\n"
                                                   "\n"
                                                   "cookie,c1,crm,\"R,1\"\n");  // closes a cycle
  jm::IdentityGraph graph;
  EXPECT_EQ(jm::read_identity_file(path, graph), 4);
  EXPECT_EQ(graph.n_ids(), 3);
  const jm::IdentityComponents stitched =
      jm::stitch_identities(jm::make_context(jm::Backend::Cpu), graph, jm::IdentityOptions{});
  EXPECT_EQ(stitched.n_components, 1);
  EXPECT_EQ(stitched.n_links, 3);
  EXPECT_NE(graph.find_id("crm", "R,1"), -1);
}

TEST(IdentityFile, BadFilesNameFileLineAndColumn) {
  const auto dir = jm::testing::scratch_dir();
  auto error_of = [&](const std::string& name, const std::string& text) {
    jm::IdentityGraph graph;
    try {
      jm::read_identity_file(jm::testing::write_file(dir / name, text), graph);
    } catch (const jm::InputError& error) {
      return error;
    }
    ADD_FAILURE() << name << " was accepted";
    return jm::InputError("", 0, "", "", "");
  };
  const jm::InputError missing = error_of("missing.csv", "kind_a,id_a,kind_b\ncookie,1,email\n");
  EXPECT_EQ(missing.line(), 1);
  EXPECT_EQ(missing.column(), "id_b");
  EXPECT_NE(missing.file().find("missing.csv"), std::string::npos);
  const jm::InputError fields = error_of("fields.csv", "kind_a,id_a,kind_b,id_b\ncookie,1,email,e,extra\n");
  EXPECT_EQ(fields.line(), 2);
  const jm::InputError empty = error_of("empty_id.csv", "kind_a,id_a,kind_b,id_b\ncookie,1,email,e\ncookie,,email,e\n");
  EXPECT_EQ(empty.line(), 3);
  EXPECT_EQ(empty.column(), "id_a");
  EXPECT_EQ(error_of("nothing.csv", "").line(), 0);
  EXPECT_EQ(error_of("bad_kind.csv", "kind_a,id_a,kind_b,id_b\nco:okie,1,email,e\n").column(), "kind_a");
}

}  // namespace
