// Ledger::PublishedCheckpoint / PublishCosignedCheckpoint: the checkpoint the log publishes
// once witnesses cosign (core/log/ledger.h), kept in DATA_DIR/cosigned-checkpoint.
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/log/ledger.h"
#include "core/verify/cosignature.h"
#include "core/verify/envelope.h"
#include "core/verify/note.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"

namespace veta {
namespace {

using veta::testing::TempDir;

class PublishedCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Ledger::Create(dir_.path(), "veta.test/published", authority_, "").ok());
    Reopen(true);
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = authority2_.public_key().ToProto();
    reg.set_holder("someone");
    ASSERT_TRUE(ledger_
                    ->SubmitAndWait(
                        SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), {authority_})
                            ->SerializeAsString())
                    .status.ok());
  }
  void Reopen(bool witnessed) {
    if (ledger_) ledger_->Close();
    ledger_.reset();
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.checkpoint_interval = std::chrono::milliseconds(0);
    options.witnessed = witnessed;
    auto opened = Ledger::Open(options, authority_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ledger_ = std::move(*opened);
  }
  std::string Cosigned(const std::string& note) {
    const std::string text = note.substr(0, note.find("\n\n") + 1);
    return *cosig::AddSignatureLines(note, {*cosig::Sign(text, "w.test", witness_, 1700000000)});
  }

  TempDir dir_;
  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey authority2_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey witness_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(PublishedCheckpointTest, TheOpenedOneUntilCosignedThenTheCosignedOneKeptAcrossRestarts) {
  // Until witnesses cosign one: the checkpoint the ledger opened with (the genesis's, size 1),
  // not the newer one signed since (size 2), which an older cosigned one would take back.
  EXPECT_EQ(ledger_->LatestCheckpoint().tree_size(), 2u);
  EXPECT_EQ(ledger_->PublishedCheckpoint().tree_size(), 1u);
  const std::string cosigned = Cosigned(ledger_->LatestCheckpoint().note());
  ASSERT_TRUE(ledger_->PublishCosignedCheckpoint(cosigned).ok());
  EXPECT_EQ(ledger_->PublishedCheckpointNote(), cosigned);
  EXPECT_EQ(ledger_->PublishedCheckpoint().tree_size(), 2u);
  Reopen(true);
  EXPECT_EQ(ledger_->PublishedCheckpointNote(), cosigned);
  // Without a witness policy the newest signed checkpoint is published, as before.
  Reopen(false);
  EXPECT_EQ(ledger_->PublishedCheckpointNote(), ledger_->LatestCheckpoint().note());
}

TEST_F(PublishedCheckpointTest, RefusesForeignStaleAndForkedNotes) {
  const std::string current = Cosigned(ledger_->LatestCheckpoint().note());
  ASSERT_TRUE(ledger_->PublishCosignedCheckpoint(current).ok());
  // Signed by another key under the same origin.
  Hash root{};
  const std::string foreign = *note::Sign(note::CheckpointText({"veta.test/published", 2, root}),
                                          "veta.test/published", authority2_);
  EXPECT_FALSE(ledger_->PublishCosignedCheckpoint(foreign).ok());
  // Signed by the authority, but not this tree (a fork of the same size).
  const std::string fork = *note::Sign(note::CheckpointText({"veta.test/published", 2, root}),
                                       "veta.test/published", authority_);
  EXPECT_EQ(ledger_->PublishCosignedCheckpoint(fork).code(), absl::StatusCode::kDataLoss);
  // Older than the one published (the genesis checkpoint of size 1).
  auto genesis_root = ledger_->RootAt(1);
  ASSERT_TRUE(genesis_root.ok());
  const std::string older =
      *note::Sign(note::CheckpointText({"veta.test/published", 1, *genesis_root}),
                  "veta.test/published", authority_);
  EXPECT_EQ(ledger_->PublishCosignedCheckpoint(older).code(),
            absl::StatusCode::kFailedPrecondition);
  // Past the log's end.
  const std::string future = *note::Sign(note::CheckpointText({"veta.test/published", 99, root}),
                                         "veta.test/published", authority_);
  EXPECT_FALSE(ledger_->PublishCosignedCheckpoint(future).ok());
  EXPECT_FALSE(ledger_->PublishCosignedCheckpoint("not a note").ok());
  EXPECT_EQ(ledger_->PublishedCheckpointNote(), current);  // nothing changed
}

TEST_F(PublishedCheckpointTest, ATamperedCosignedFileStopsTheStart) {
  ASSERT_TRUE(
      ledger_->PublishCosignedCheckpoint(Cosigned(ledger_->LatestCheckpoint().note())).ok());
  ledger_->Close();
  ledger_.reset();
  Hash root{};
  ASSERT_TRUE(WriteFileAtomic(CosignedCheckpointPath(dir_.path()),
                              *note::Sign(note::CheckpointText({"veta.test/published", 2, root}),
                                          "veta.test/published", authority_))
                  .ok());
  LedgerOptions options;
  options.data_dir = dir_.path();
  options.witnessed = true;
  auto opened = Ledger::Open(options, authority_);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
}

}  // namespace
}  // namespace veta
