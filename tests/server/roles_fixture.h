// A ledger with one party of each role and a server on a loopback port over real TLS, each
// role a client certificate carrying a key the registry knows (the public presents none):
// the miner (RUC 2060000001) holds unit U1 and lot L1 (100 kg), with one refused extraction
// (UNIT_UNKNOWN); the trader is 2070000003, the plant 2070000004, the exporter 2070000005,
// the selector 45678912 (on U1), the regulator SUNAT.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <string>
#include <vector>

#include "core/log/ledger.h"
#include "core/verify/x509.h"
#include "server/server.h"
#include "tests/core/registry_fixture.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {

using testing::Ruc;

inline const std::vector<std::string> kRoles = {"public", "registrar", "miner",    "selector",
                                                "trader", "plant",     "exporter", "regulator"};

class RolesFixture : public testing::RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();  // a ledger, its authority, and registrar "DGFM"
    keys_.emplace("registrar", registrar_);
    for (const auto& role : kRoles) {
      if (role != "registrar") keys_.emplace(role, *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256));
    }
    ExpectAccepted(Registry(Miner(miner_ruc_, keys_.at("miner"))));
    ExpectAccepted(Registry(Unit("U1", miner_ruc_, -69.9, -12.6)));
    ExpectAccepted(Registry(PartyRecord(Ruc("2070000003"), veta::v1::TRADER, keys_.at("trader"))));
    ExpectAccepted(Registry(PartyRecord(Ruc("2070000004"), veta::v1::PLANT, keys_.at("plant"))));
    ExpectAccepted(
        Registry(PartyRecord(Ruc("2070000005"), veta::v1::EXPORTER, keys_.at("exporter"))));
    registry_entry_ = ExpectAccepted(Registry(payloads::SelectorRecord(
                                         "45678912", keys_.at("selector").public_key(), {"U1"})))
                          .sequence;
    veta::v1::KeyRegistration regulator;  // a regulator's key, registered by the authority
    *regulator.mutable_key() = keys_.at("regulator").public_key().ToProto();
    regulator.set_holder("regulator:SUNAT");
    ExpectAccepted(Sign(kKeyRegistrationType, regulator, {authority_}));
    // The miner's lot, and one refused attempt.
    extraction_entry_ =
        ExpectAccepted(Extraction("L1", miner_ruc_, "U1", -69.9, -12.6, 100_kg, keys_.at("miner")))
            .sequence;
    ExpectRefused(Extraction("L2", miner_ruc_, "U9", -69.9, -12.6, 100_kg, keys_.at("miner")),
                  veta::v1::UNIT_UNKNOWN);

    const PrivateKey server_key = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
    server_cert_ = *SelfSignedCertificate(server_key, "veta-test", {"localhost", "127.0.0.1"});
    ServerOptions options = options_;
    options.listen = "127.0.0.1:0";
    options.tls_cert_pem = server_cert_;
    options.tls_key_pem = server_key.ToPem();
    auto running = StartServer(ledger_.get(), options);
    ASSERT_TRUE(running.ok()) << running.status();
    running_ = std::move(*running);
  }

  void TearDown() override {
    if (running_.server) running_.server->Shutdown();
    ledger_->Close();
  }

  std::unique_ptr<veta::v1::Ledger::Stub> StubFor(const std::string& role) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = server_cert_;
    if (role != "public") {
      const PrivateKey& key = keys_.at(role);
      ssl.pem_cert_chain = *SelfSignedCertificate(key, role, {});
      ssl.pem_private_key = key.ToPem();
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return veta::v1::Ledger::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(running_.port), grpc::SslCredentials(ssl), args));
  }

  ServerOptions options_;  // set before SetUp: the server's limits
  const std::string miner_ruc_ = Ruc("2060000001");
  std::map<std::string, PrivateKey> keys_;
  uint64_t registry_entry_ = 0, extraction_entry_ = 0;
  std::string server_cert_;
  RunningServer running_;
};

}  // namespace veta::server
