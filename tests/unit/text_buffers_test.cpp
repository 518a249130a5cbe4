#include "exporter/text_buffers.h"

#include <gtest/gtest.h>

namespace bhe {
namespace {

TEST(TextBuffers, TheNextTextIsWrittenIntoTheLastOnesBuffer) {
  TextBuffers buffers;
  std::string text = buffers.take();
  text.assign(3 * TextBuffers::kMinKept, 'x');
  const char* memory = text.data();
  buffers.give(std::move(text));
  EXPECT_GE(buffers.keptCapacity(), 3 * TextBuffers::kMinKept);

  std::string next = buffers.take();
  EXPECT_TRUE(next.empty());  // nothing of the last text is left in it
  EXPECT_EQ(next.data(), memory);
  EXPECT_EQ(buffers.keptCapacity(), 0u);  // handed out: a second taker gets a new one
  EXPECT_NE(buffers.take().data(), memory);
}

TEST(TextBuffers, KeepsOneBufferAndOnlyOneWorthKeeping) {
  TextBuffers buffers;
  buffers.give(std::string(1000, 's'));  // small: malloc's business
  EXPECT_EQ(buffers.keptCapacity(), 0u);

  std::string oversized;
  oversized.reserve(8 * TextBuffers::kMinKept);
  oversized.assign(TextBuffers::kMinKept, 'o');  // its text shrank (fewer servers after a reload)
  buffers.give(std::move(oversized));
  EXPECT_EQ(buffers.keptCapacity(), 0u);

  buffers.give(std::string(2 * TextBuffers::kMinKept, 'a'));
  buffers.give(std::string(4 * TextBuffers::kMinKept, 'b'));
  buffers.give(std::string(3 * TextBuffers::kMinKept, 'c'));
  EXPECT_GE(buffers.keptCapacity(), 4 * TextBuffers::kMinKept);  // the largest, alone
  EXPECT_LT(buffers.keptCapacity(), 5 * TextBuffers::kMinKept);
}

}  // namespace
}  // namespace bhe
