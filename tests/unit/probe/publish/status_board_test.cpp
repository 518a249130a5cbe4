// The board readers see: one entry per target, the latest published status, in config order,
// however publications, removals and reorders (reloads) interleave.
#include "probe/publish/status_board.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace bhe {
namespace {

std::shared_ptr<const ProbeTarget> target(const std::string& server) {
  auto t = std::make_shared<ProbeTarget>();
  t->key = {"pool", "settings", server};
  return t;
}

// A session publishes every status of its target with that one ProbeTarget; a reload may give
// it a new one with the same key.
std::shared_ptr<const TargetStatus> status(std::shared_ptr<const ProbeTarget> of, std::size_t order,
                                           std::uint64_t state_changes = 0) {
  auto s = std::make_shared<TargetStatus>();
  s->target = std::move(of);
  s->order = order;
  s->state_changes = state_changes;  // tells one publication of a target from another
  return s;
}

std::shared_ptr<const TargetStatus> status(const std::string& server, std::size_t order,
                                           std::uint64_t state_changes = 0) {
  return status(target(server), order, state_changes);
}

std::vector<std::string> servers(const StatusSnapshot& snapshot) {
  std::vector<std::string> out;
  for (const auto& s : snapshot) {
    out.push_back(s->key().server);
  }
  return out;
}

using Servers = std::vector<std::string>;

TEST(StatusBoard, ListsTargetsInConfigOrderWhateverOrderTheyArePublishedIn) {
  StatusBoard board;
  board.onStatus(status("c", 2));
  board.onStatus(status("a", 0));
  board.onStatus(status("b", 1));
  EXPECT_EQ(servers(board.snapshot()), (Servers{"a", "b", "c"}));
}

TEST(StatusBoard, ANewStatusReplacesItsTargetsEntryInPlace) {
  StatusBoard board;
  board.onStatus(status("a", 0));
  board.onStatus(status("b", 1));
  const auto latest = status("a", 0, 7);
  board.onStatus(latest);
  const auto snapshot = board.snapshot();
  ASSERT_EQ(servers(snapshot), (Servers{"a", "b"}));
  EXPECT_EQ(snapshot[0], latest);
}

TEST(StatusBoard, ASessionsNextStatusReplacesItsEntryWhereverTheEntryIs) {
  StatusBoard board;
  const auto a = target("a");
  const auto b = target("b");
  board.onStatus(status(b, 1));
  board.onStatus(status(a, 0));  // published out of order: a sits at b's config position
  board.onStatus(status(b, 1, 5));
  board.onStatus(status(a, 0, 6));
  auto snapshot = board.snapshot();
  ASSERT_EQ(servers(snapshot), (Servers{"a", "b"}));
  EXPECT_EQ(snapshot[0]->state_changes, 6u);
  EXPECT_EQ(snapshot[1]->state_changes, 5u);
  // In order now, each entry at its position: the next statuses replace them in place.
  board.onStatus(status(a, 0, 7));
  board.onStatus(status(b, 1, 8));
  snapshot = board.snapshot();
  ASSERT_EQ(servers(snapshot), (Servers{"a", "b"}));
  EXPECT_EQ(snapshot[0]->state_changes, 7u);
  EXPECT_EQ(snapshot[1]->state_changes, 8u);
  // The same target moved to the other position (a reload that swaps them).
  board.onStatus(status(a, 1, 9));
  board.onStatus(status(b, 0, 10));
  EXPECT_EQ(servers(board.snapshot()), (Servers{"b", "a"}));
}

TEST(StatusBoard, ASnapshotIsNotChangedByLaterPublications) {
  StatusBoard board;
  board.onStatus(status("a", 0, 1));
  const auto before = board.snapshot();
  board.onStatus(status("a", 0, 2));
  board.onStatus(status("b", 1));
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0]->state_changes, 1u);
}

TEST(StatusBoard, ARemovedTargetLeavesTheOthersInOrder) {
  StatusBoard board;
  for (std::size_t i = 0; i < 5; ++i) {
    board.onStatus(status(std::string(1, static_cast<char>('a' + i)), i));
  }
  board.onRemoved({"pool", "settings", "b"});
  EXPECT_EQ(servers(board.snapshot()), (Servers{"a", "c", "d", "e"}));
  // The entry that filled the hole is still found by its key.
  const auto latest = status("e", 4, 3);
  board.onStatus(latest);
  EXPECT_EQ(board.snapshot().back(), latest);
  board.onRemoved({"pool", "settings", "unknown"});
  EXPECT_EQ(board.snapshot().size(), 4u);
}

TEST(StatusBoard, AReloadThatReordersTargetsReordersTheList) {
  StatusBoard board;
  board.onStatus(status("a", 0));
  board.onStatus(status("b", 1));
  board.onStatus(status("c", 2));
  EXPECT_EQ(servers(board.snapshot()), (Servers{"a", "b", "c"}));
  // The reload moved c to the front and inserted d between a and b.
  board.onStatus(status("c", 0));
  board.onStatus(status("a", 1));
  board.onStatus(status("d", 2));
  board.onStatus(status("b", 3));
  EXPECT_EQ(servers(board.snapshot()), (Servers{"c", "a", "d", "b"}));
}

// Any sequence of publications, reorders and removals: the snapshot is what a map of each
// target's latest status, sorted by order, says.
TEST(StatusBoard, AgreesWithAPlainModelOverRandomSequences) {
  std::mt19937 random(20261203);
  for (int round = 0; round < 50; ++round) {
    StatusBoard board;
    std::map<std::string, std::shared_ptr<const TargetStatus>> model;
    std::map<std::string, std::shared_ptr<const ProbeTarget>> targets;  // each session's
    for (int step = 0; step < 300; ++step) {
      const std::size_t number = random() % 40;
      const std::string server = "s" + std::to_string(number);
      if (random() % 5 == 0) {
        board.onRemoved({"pool", "settings", server});
        model.erase(server);
        targets.erase(server);
      } else {
        // Orders are distinct between targets, as config positions are; most are positions the
        // list has (0-39), where entries are looked for first.
        const std::size_t order = (random() % 3 == 0 ? 1 + random() % 3 : 0) * 40 + number;
        auto& of = targets[server];
        if (of == nullptr || random() % 4 == 0) {  // a new session, or a reload's new target
          of = target(server);
        }
        auto published = status(of, order, static_cast<std::uint64_t>(step));
        board.onStatus(published);
        model[server] = std::move(published);
      }
      if (random() % 10 == 0 || step == 299) {
        StatusSnapshot expected;
        for (const auto& [name, s] : model) {
          expected.push_back(s);
        }
        std::sort(expected.begin(), expected.end(),
                  [](const auto& a, const auto& b) { return a->order < b->order; });
        ASSERT_EQ(board.snapshot(), expected) << "round " << round << ", step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace bhe
