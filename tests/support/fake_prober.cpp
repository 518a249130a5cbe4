#include "tests/support/fake_prober.h"

namespace bhe::test {

class FakeProber::Probe final : public ActiveProbe {
 public:
  Probe(FakeProber& owner, std::size_t index) : owner_(owner), index_(index) {}
  void cancel() override {
    owner_.started_[index_]->cancelled = true;
    owner_.finish(index_, FakeProber::failure(Reason::kBackendTimeout));
  }

 private:
  FakeProber& owner_;
  std::size_t index_;
};

std::unique_ptr<ActiveProbe> FakeProber::start(const ProbeRequest& request, ProbeDone done) {
  started_.push_back(
      std::make_shared<Started>(Started{request, dispatcher_.now(), std::move(done)}));
  return std::make_unique<Probe>(*this, started_.size() - 1);
}

void FakeProber::finish(std::size_t index, ProbeResult result) {
  auto started = started_.at(index);
  if (!started->done) {
    return;  // finished already
  }
  ProbeDone done = std::move(started->done);
  started->done = nullptr;
  dispatcher_.post(
      [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
}

ProbeResult FakeProber::success() {
  ProbeResult r;
  r.success = true;
  r.http_status = 200;
  r.details = "Received:200";
  return r;
}

ProbeResult FakeProber::failure(Reason reason) {
  ProbeResult r;
  r.success = false;
  r.reason = reason;
  r.details = std::string(describe(reason).name) + " details";
  return r;
}

std::size_t FakeProber::running() const {
  std::size_t n = 0;
  for (const auto& s : started_) {
    n += s->done ? 1 : 0;
  }
  return n;
}

std::size_t FakeProber::cancelledCount() const {
  std::size_t n = 0;
  for (const auto& s : started_) {
    n += s->cancelled ? 1 : 0;
  }
  return n;
}

}  // namespace bhe::test
