// An HttpFetcher whose fetches the test finishes by hand (the wire of RevocationFetcher), on
// simulated time: it records every fetch started and hands answers over on a later loop turn,
// as the real one does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/dispatcher.h"
#include "probe/revocation/revocation_fetcher.h"

namespace bhe::test {

class FakeHttpFetcher final : public HttpFetcher {
 public:
  struct Started {
    HttpFetchRequest request;
    HttpFetchDone done;  // empty once finished or withdrawn
    std::shared_ptr<bool> alive;
  };

  explicit FakeHttpFetcher(Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

  std::unique_ptr<PendingFetch> fetch(const HttpFetchRequest& request,
                                      HttpFetchDone done) override {
    auto alive = std::make_shared<bool>(true);
    started_->push_back({request, std::move(done), alive});
    return std::make_unique<Pending>(alive);
  }

  // Shared with the test, which keeps it after the fetcher moved into its owner.
  std::shared_ptr<std::vector<Started>> started() const { return started_; }

  static void answer(Dispatcher& dispatcher, Started& s, HttpFetchResult result) {
    HttpFetchDone done = std::move(s.done);
    dispatcher.post([alive = std::weak_ptr<bool>(s.alive), done = std::move(done), result] {
      if (auto a = alive.lock(); a && *a && done) {
        done(result);
      }
    });
  }
  static HttpFetchResult body(std::string bytes) {
    HttpFetchResult r;
    r.ok = true;
    r.body = std::make_shared<const std::string>(std::move(bytes));
    return r;
  }
  static HttpFetchResult failure(SourceFailure how) {
    HttpFetchResult r;
    r.failure = how;
    return r;
  }

 private:
  class Pending final : public PendingFetch {
   public:
    explicit Pending(std::shared_ptr<bool> alive) : alive_(std::move(alive)) {}
    ~Pending() override { *alive_ = false; }

   private:
    std::shared_ptr<bool> alive_;
  };

  Dispatcher& dispatcher_;
  std::shared_ptr<std::vector<Started>> started_ = std::make_shared<std::vector<Started>>();
};

}  // namespace bhe::test
