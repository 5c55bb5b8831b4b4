// Known-answer tests of the signing keys (core/verify/keys.h).
//
// Ed25519: the test vectors of RFC 8032 section 7.1 (TEST 1, TEST 2, TEST 3, TEST 1024 and
// TEST SHA(abc)), copied from the RFC text (https://www.rfc-editor.org/rfc/rfc8032#section-7.1),
// line by line as printed there.
// Ed25519 SubjectPublicKeyInfo: RFC 8410 section 4 (the encoding) and section 10.1 (the example
// public key).
// ECDSA P-256: RFC 6979 appendix A.2.5 (the key and the SHA-256 signatures of "sample" and
// "test"), checked with Verify; signing is randomized, so it is tested by round trips.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/strings.h"
#include "core/verify/keys.h"
#include "core/verify/sha256.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"

namespace veta {
namespace {

using veta::testing::Unhex;

std::string FlipBit(std::string s, size_t bit) {
  s[bit / 8] = static_cast<char>(static_cast<uint8_t>(s[bit / 8]) ^ (1u << (bit % 8)));
  return s;
}

struct Rfc8032Vector {
  const char* name;
  std::string secret_key;  // hex
  std::string public_key;  // hex
  std::string message;     // hex
  std::string signature;   // hex
};

std::vector<Rfc8032Vector> Rfc8032Vectors() {
  return {
      {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a"
       "84877f1eb8e5d974d873e06522490155"
       "5fb8821590a33bacc61e39701cf9b46b"
       "d25bf5f0595bbe24655141438e7a100b"},
      {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540"
       "a2b27b5416503f8fb3762223ebdb69da"
       "085ac1e43e15996e458f3613d0f11d8c"
       "387b2eaeb4302aeeb00d291612bb0c00"},
      {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
       "6291d657deec24024827e69c3abe01a3"
       "0ce548a284743a445e3680d7db5ac3ac"
       "18ff9b538d16f290ae67f760984dc659"
       "4a7c15e9716ed28dc027beceea1ec40a"},
      {"TEST 1024",
       "f5e5767cf153319517630f226876b86c"
       "8160cc583bc013744c6bf255f5cc0ee5",
       "278117fc144c72340f67d0f2316e8386"
       "ceffbf2b2428c9c51fef7c597f1d426e",
       // MESSAGE (length 1023 bytes)
       "08b8b2b733424243760fe426a4b54908"
       "632110a66c2f6591eabd3345e3e4eb98"
       "fa6e264bf09efe12ee50f8f54e9f77b1"
       "e355f6c50544e23fb1433ddf73be84d8"
       "79de7c0046dc4996d9e773f4bc9efe57"
       "38829adb26c81b37c93a1b270b20329d"
       "658675fc6ea534e0810a4432826bf58c"
       "941efb65d57a338bbd2e26640f89ffbc"
       "1a858efcb8550ee3a5e1998bd177e93a"
       "7363c344fe6b199ee5d02e82d522c4fe"
       "ba15452f80288a821a579116ec6dad2b"
       "3b310da903401aa62100ab5d1a36553e"
       "06203b33890cc9b832f79ef80560ccb9"
       "a39ce767967ed628c6ad573cb116dbef"
       "efd75499da96bd68a8a97b928a8bbc10"
       "3b6621fcde2beca1231d206be6cd9ec7"
       "aff6f6c94fcd7204ed3455c68c83f4a4"
       "1da4af2b74ef5c53f1d8ac70bdcb7ed1"
       "85ce81bd84359d44254d95629e9855a9"
       "4a7c1958d1f8ada5d0532ed8a5aa3fb2"
       "d17ba70eb6248e594e1a2297acbbb39d"
       "502f1a8c6eb6f1ce22b3de1a1f40cc24"
       "554119a831a9aad6079cad88425de6bd"
       "e1a9187ebb6092cf67bf2b13fd65f270"
       "88d78b7e883c8759d2c4f5c65adb7553"
       "878ad575f9fad878e80a0c9ba63bcbcc"
       "2732e69485bbc9c90bfbd62481d9089b"
       "eccf80cfe2df16a2cf65bd92dd597b07"
       "07e0917af48bbb75fed413d238f5555a"
       "7a569d80c3414a8d0859dc65a46128ba"
       "b27af87a71314f318c782b23ebfe808b"
       "82b0ce26401d2e22f04d83d1255dc51a"
       "ddd3b75a2b1ae0784504df543af8969b"
       "e3ea7082ff7fc9888c144da2af58429e"
       "c96031dbcad3dad9af0dcbaaaf268cb8"
       "fcffead94f3c7ca495e056a9b47acdb7"
       "51fb73e666c6c655ade8297297d07ad1"
       "ba5e43f1bca32301651339e22904cc8c"
       "42f58c30c04aafdb038dda0847dd988d"
       "cda6f3bfd15c4b4c4525004aa06eeff8"
       "ca61783aacec57fb3d1f92b0fe2fd1a8"
       "5f6724517b65e614ad6808d6f6ee34df"
       "f7310fdc82aebfd904b01e1dc54b2927"
       "094b2db68d6f903b68401adebf5a7e08"
       "d78ff4ef5d63653a65040cf9bfd4aca7"
       "984a74d37145986780fc0b16ac451649"
       "de6188a7dbdf191f64b5fc5e2ab47b57"
       "f7f7276cd419c17a3ca8e1b939ae49e4"
       "88acba6b965610b5480109c8b17b80e1"
       "b7b750dfc7598d5d5011fd2dcc5600a3"
       "2ef5b52a1ecc820e308aa342721aac09"
       "43bf6686b64b2579376504ccc493d97e"
       "6aed3fb0f9cd71a43dd497f01f17c0e2"
       "cb3797aa2a2f256656168e6c496afc5f"
       "b93246f6b1116398a346f1a641f3b041"
       "e989f7914f90cc2c7fff357876e506b5"
       "0d334ba77c225bc307ba537152f3f161"
       "0e4eafe595f6d9d90d11faa933a15ef1"
       "369546868a7f3a45a96768d40fd9d034"
       "12c091c6315cf4fde7cb68606937380d"
       "b2eaaa707b4c4185c32eddcdd306705e"
       "4dc1ffc872eeee475a64dfac86aba41c"
       "0618983f8741c5ef68d3a101e8a3b8ca"
       "c60c905c15fc910840b94c00a0b9d0",
       "0aab4c900501b3e24d7cdf4663326a3a"
       "87df5e4843b2cbdb67cbf6e460fec350"
       "aa5371b1508f9f4528ecea23c436d94b"
       "5e8fcd4f681e30a6ac00a9704a188a03"},
      {"TEST SHA(abc)",
       "833fe62409237b9d62ec77587520911e"
       "9a759cec1d19755b7da901b96dca3d42",
       "ec172b93ad5e563bf4932c70e1245034"
       "c35467ef2efd4d64ebf819683467e2bf",
       // MESSAGE (length 64 bytes): SHA-512("abc")
       "ddaf35a193617abacc417349ae204131"
       "12e6fa4e89a97ea20a9eeee64b55d39a"
       "2192992a274fc1a836ba3c23a3feebbd"
       "454d4423643ce80e2a9ac94fa54ca49f",
       "dc2a4459e7369633a52b1bf277839a00"
       "201009a3efbf3ecb69bea2186c26b589"
       "09351fc9ac90b3ecfdfbc7c66431e030"
       "3dca179c138ac17ad9bef1177331a704"},
  };
}

// RFC 8410 section 4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) }.
constexpr char kEd25519SpkiPrefixHex[] = "302a300506032b6570032100";

// ---------------------------------------------------------------------------------------------
// RFC 8032 section 7.1.

TEST(Ed25519Rfc8032, VectorLengths) {
  const std::vector<size_t> message_lengths = {0, 1, 2, 1023, 64};
  const auto vectors = Rfc8032Vectors();
  ASSERT_EQ(vectors.size(), message_lengths.size());
  for (size_t i = 0; i < vectors.size(); ++i) {
    SCOPED_TRACE(vectors[i].name);
    EXPECT_EQ(Unhex(vectors[i].secret_key).size(), 32u);
    EXPECT_EQ(Unhex(vectors[i].public_key).size(), 32u);
    EXPECT_EQ(Unhex(vectors[i].message).size(), message_lengths[i]);
    EXPECT_EQ(Unhex(vectors[i].signature).size(), 64u);
  }
}

TEST(Ed25519Rfc8032, PublicKeyFromSeed) {
  for (const Rfc8032Vector& v : Rfc8032Vectors()) {
    SCOPED_TRACE(v.name);
    auto key = PrivateKey::FromEd25519Seed(Unhex(v.secret_key));
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->algorithm(), KeyAlgorithm::kEd25519);
    EXPECT_EQ(key->public_key().algorithm(), KeyAlgorithm::kEd25519);
    EXPECT_EQ(ToHex(key->public_key().ed25519_raw()), v.public_key);
    // RFC 8410: the SubjectPublicKeyInfo is a fixed prefix and the 32 raw bytes.
    EXPECT_EQ(ToHex(key->public_key().spki_der()),
              absl::StrCat(kEd25519SpkiPrefixHex, v.public_key));
  }
}

TEST(Ed25519Rfc8032, SignatureIsThePublishedOne) {
  for (const Rfc8032Vector& v : Rfc8032Vectors()) {
    SCOPED_TRACE(v.name);
    auto key = PrivateKey::FromEd25519Seed(Unhex(v.secret_key));
    ASSERT_TRUE(key.ok()) << key.status();
    auto sig = key->Sign(Unhex(v.message));
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_EQ(ToHex(*sig), v.signature);
    // Ed25519 is deterministic: signing again gives the same bytes.
    auto again = key->Sign(Unhex(v.message));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, *sig);
  }
}

TEST(Ed25519Rfc8032, PublishedSignatureVerifies) {
  for (const Rfc8032Vector& v : Rfc8032Vectors()) {
    SCOPED_TRACE(v.name);
    auto pub = PublicKey::FromEd25519Raw(Unhex(v.public_key));
    ASSERT_TRUE(pub.ok()) << pub.status();
    EXPECT_EQ(pub->algorithm(), KeyAlgorithm::kEd25519);
    EXPECT_EQ(ToHex(pub->ed25519_raw()), v.public_key);
    const absl::Status st = pub->Verify(Unhex(v.message), Unhex(v.signature));
    EXPECT_TRUE(st.ok()) << st;
    // The same key through its SubjectPublicKeyInfo and through PEM.
    auto from_der = PublicKey::FromSpkiDer(pub->spki_der());
    ASSERT_TRUE(from_der.ok()) << from_der.status();
    EXPECT_TRUE(from_der->Verify(Unhex(v.message), Unhex(v.signature)).ok());
    auto from_pem = PublicKey::FromPem(pub->ToPem());
    ASSERT_TRUE(from_pem.ok()) << from_pem.status();
    EXPECT_EQ(from_pem->spki_der(), pub->spki_der());
    EXPECT_TRUE(from_pem->Verify(Unhex(v.message), Unhex(v.signature)).ok());
  }
}

TEST(Ed25519Rfc8032, EveryBitFlipOfTheSignatureIsRejected) {
  for (const Rfc8032Vector& v : Rfc8032Vectors()) {
    SCOPED_TRACE(v.name);
    auto pub = PublicKey::FromEd25519Raw(Unhex(v.public_key));
    ASSERT_TRUE(pub.ok()) << pub.status();
    const std::string message = Unhex(v.message);
    const std::string sig = Unhex(v.signature);
    for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
      const absl::Status st = pub->Verify(message, FlipBit(sig, bit));
      EXPECT_FALSE(st.ok()) << "signature bit " << bit;
    }
    // Truncated, extended, empty.
    EXPECT_FALSE(pub->Verify(message, sig.substr(0, 63)).ok());
    EXPECT_FALSE(pub->Verify(message, sig + '\0').ok());
    EXPECT_FALSE(pub->Verify(message, "").ok());
    EXPECT_EQ(pub->Verify(message, FlipBit(sig, 0)).code(), absl::StatusCode::kUnauthenticated);
  }
}

TEST(Ed25519Rfc8032, EveryChangeOfTheMessageIsRejected) {
  for (const Rfc8032Vector& v : Rfc8032Vectors()) {
    SCOPED_TRACE(v.name);
    auto pub = PublicKey::FromEd25519Raw(Unhex(v.public_key));
    ASSERT_TRUE(pub.ok()) << pub.status();
    const std::string message = Unhex(v.message);
    const std::string sig = Unhex(v.signature);
    // One bit in each byte (all bits of the short messages).
    for (size_t byte = 0; byte < message.size(); ++byte) {
      const std::vector<size_t> bits = message.size() <= 64
                                           ? std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7}
                                           : std::vector<size_t>{byte % 8};
      for (size_t b : bits) {
        EXPECT_FALSE(pub->Verify(FlipBit(message, byte * 8 + b), sig).ok())
            << "message bit " << byte * 8 + b;
      }
    }
    EXPECT_FALSE(pub->Verify(message + '\0', sig).ok()) << "appended byte";
    if (!message.empty()) {
      EXPECT_FALSE(pub->Verify(message.substr(0, message.size() - 1), sig).ok()) << "truncated";
    }
  }
  // Each vector's signature fails with every other vector's message and key.
  const auto vectors = Rfc8032Vectors();
  for (size_t i = 0; i < vectors.size(); ++i) {
    auto pub = PublicKey::FromEd25519Raw(Unhex(vectors[i].public_key));
    ASSERT_TRUE(pub.ok()) << pub.status();
    for (size_t j = 0; j < vectors.size(); ++j) {
      if (i == j) continue;
      EXPECT_FALSE(pub->Verify(Unhex(vectors[j].message), Unhex(vectors[j].signature)).ok())
          << vectors[j].name << " under the key of " << vectors[i].name;
      EXPECT_FALSE(pub->Verify(Unhex(vectors[i].message), Unhex(vectors[j].signature)).ok())
          << vectors[j].name << " signature on " << vectors[i].name;
    }
  }
}

TEST(Ed25519Rfc8032, EveryBitFlipOfTheKeyIsRejected) {
  for (const Rfc8032Vector& v : Rfc8032Vectors()) {
    SCOPED_TRACE(v.name);
    const std::string raw = Unhex(v.public_key);
    const std::string message = Unhex(v.message);
    const std::string sig = Unhex(v.signature);
    for (size_t bit = 0; bit < raw.size() * 8; ++bit) {
      auto pub = PublicKey::FromEd25519Raw(FlipBit(raw, bit));
      if (!pub.ok()) continue;  // not a point: refused already
      EXPECT_FALSE(pub->Verify(message, sig).ok()) << "key bit " << bit;
    }
  }
}

TEST(Ed25519Rfc8032, MalformedKeysAndSeedsAreRefused) {
  EXPECT_FALSE(PrivateKey::FromEd25519Seed("").ok());
  EXPECT_FALSE(PrivateKey::FromEd25519Seed(std::string(31, 'x')).ok());
  EXPECT_FALSE(PrivateKey::FromEd25519Seed(std::string(33, 'x')).ok());
  EXPECT_FALSE(PrivateKey::FromEd25519Seed(std::string(64, 'x')).ok());
  EXPECT_FALSE(PublicKey::FromEd25519Raw("").ok());
  EXPECT_FALSE(PublicKey::FromEd25519Raw(std::string(31, 'x')).ok());
  EXPECT_FALSE(PublicKey::FromEd25519Raw(std::string(33, 'x')).ok());
  EXPECT_FALSE(PublicKey::FromSpkiDer("").ok());
  EXPECT_FALSE(PublicKey::FromPem("").ok());
  EXPECT_FALSE(PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n").ok());
  EXPECT_FALSE(PrivateKey::FromPem("").ok());
  // A SubjectPublicKeyInfo with trailing bytes.
  const std::string der =
      Unhex(absl::StrCat(kEd25519SpkiPrefixHex, Rfc8032Vectors()[0].public_key));
  ASSERT_TRUE(PublicKey::FromSpkiDer(der).ok());
  EXPECT_FALSE(PublicKey::FromSpkiDer(der + '\0').ok());
  EXPECT_FALSE(PublicKey::FromSpkiDer(der.substr(0, der.size() - 1)).ok());
}

TEST(Ed25519Rfc8410, ExamplePublicKey) {
  // RFC 8410 section 10.1.
  const std::string b64 = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=";
  const std::string pem =
      absl::StrCat("-----BEGIN PUBLIC KEY-----\n", b64, "\n-----END PUBLIC KEY-----\n");
  std::string der;
  ASSERT_TRUE(absl::Base64Unescape(b64, &der));
  auto pub = PublicKey::FromPem(pem);
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->algorithm(), KeyAlgorithm::kEd25519);
  EXPECT_EQ(pub->spki_der(), der);
  EXPECT_EQ(ToHex(der.substr(0, 12)), kEd25519SpkiPrefixHex);
  EXPECT_EQ(pub->ed25519_raw(), der.substr(12));
  EXPECT_EQ(pub->keyid(), ToHex(Sha256Of(der)));
  EXPECT_EQ(pub->ToPem(), pem);
}

// ---------------------------------------------------------------------------------------------
// Key ids and the record form.

TEST(KeysKeyId, IsHexSha256OfTheSpki) {
  for (const Rfc8032Vector& v : Rfc8032Vectors()) {
    SCOPED_TRACE(v.name);
    auto pub = PublicKey::FromEd25519Raw(Unhex(v.public_key));
    ASSERT_TRUE(pub.ok()) << pub.status();
    EXPECT_EQ(pub->keyid(), ToHex(Sha256Of(pub->spki_der())));
    EXPECT_EQ(pub->keyid(),
              ToHex(Sha256Of(Unhex(absl::StrCat(kEd25519SpkiPrefixHex, v.public_key)))));
    EXPECT_EQ(pub->keyid().size(), 64u);
    EXPECT_EQ(pub->keyid().find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  for (KeyAlgorithm algorithm : {KeyAlgorithm::kEd25519, KeyAlgorithm::kEcdsaP256}) {
    auto key = PrivateKey::Generate(algorithm);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->public_key().keyid(), ToHex(Sha256Of(key->public_key().spki_der())));
    auto other = PrivateKey::Generate(algorithm);
    ASSERT_TRUE(other.ok()) << other.status();
    EXPECT_NE(key->public_key().keyid(), other->public_key().keyid());
  }
}

TEST(KeysProto, RoundTripAndMismatchedKeyId) {
  for (KeyAlgorithm algorithm : {KeyAlgorithm::kEd25519, KeyAlgorithm::kEcdsaP256}) {
    SCOPED_TRACE(AlgorithmName(algorithm));
    auto key = PrivateKey::Generate(algorithm);
    ASSERT_TRUE(key.ok()) << key.status();
    const PublicKey& pub = key->public_key();
    const veta::v1::PublicKey proto = pub.ToProto();
    EXPECT_EQ(proto.keyid(), pub.keyid());
    EXPECT_EQ(proto.spki_der(), pub.spki_der());
    EXPECT_EQ(proto.algorithm(), ToProto(algorithm));
    auto back = PublicKey::FromProto(proto);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->keyid(), pub.keyid());
    EXPECT_EQ(back->spki_der(), pub.spki_der());

    // A key id that is not the key's: one hex digit changed, uppercase, empty, another key's.
    veta::v1::PublicKey bad = proto;
    std::string id = proto.keyid();
    id[0] = id[0] == '0' ? '1' : '0';
    bad.set_keyid(id);
    EXPECT_EQ(PublicKey::FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
    bad.set_keyid(absl::AsciiStrToUpper(proto.keyid()));
    if (bad.keyid() != proto.keyid()) {
      EXPECT_FALSE(PublicKey::FromProto(bad).ok());
    }
    bad.set_keyid("");
    EXPECT_FALSE(PublicKey::FromProto(bad).ok());
    auto other = PrivateKey::Generate(algorithm);
    ASSERT_TRUE(other.ok()) << other.status();
    bad.set_keyid(other->public_key().keyid());
    EXPECT_FALSE(PublicKey::FromProto(bad).ok());
    // The key id of this key with another key's bytes.
    bad = other->public_key().ToProto();
    bad.set_keyid(proto.keyid());
    EXPECT_FALSE(PublicKey::FromProto(bad).ok());

    // The algorithm the record names must be the key's.
    bad = proto;
    bad.set_algorithm(ToProto(algorithm == KeyAlgorithm::kEd25519 ? KeyAlgorithm::kEcdsaP256
                                                                  : KeyAlgorithm::kEd25519));
    EXPECT_FALSE(PublicKey::FromProto(bad).ok());
    // Bytes that are no key.
    bad = proto;
    bad.set_spki_der(proto.spki_der().substr(1));
    EXPECT_FALSE(PublicKey::FromProto(bad).ok());
  }
}

TEST(KeysAlgorithm, Names) {
  EXPECT_EQ(AlgorithmName(KeyAlgorithm::kEd25519), "ed25519");
  EXPECT_EQ(AlgorithmName(KeyAlgorithm::kEcdsaP256), "ecdsa-p256");
  auto ed = ParseAlgorithmName("ed25519");
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(*ed, KeyAlgorithm::kEd25519);
  auto ec = ParseAlgorithmName("ecdsa-p256");
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ(*ec, KeyAlgorithm::kEcdsaP256);
  EXPECT_FALSE(ParseAlgorithmName("rsa").ok());
  EXPECT_FALSE(ParseAlgorithmName("").ok());
}

// ---------------------------------------------------------------------------------------------
// ECDSA P-256.

// DER of an INTEGER holding the unsigned big-endian `bytes`.
std::string DerInteger(std::string bytes) {
  while (bytes.size() > 1 && bytes[0] == '\0' && !(static_cast<uint8_t>(bytes[1]) & 0x80)) {
    bytes.erase(0, 1);
  }
  if (static_cast<uint8_t>(bytes[0]) & 0x80) bytes.insert(0, 1, '\0');
  return absl::StrCat(std::string(1, '\x02'), std::string(1, static_cast<char>(bytes.size())),
                      bytes);
}

// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }.
std::string DerSignature(std::string_view r_hex, std::string_view s_hex) {
  const std::string body = DerInteger(Unhex(r_hex)) + DerInteger(Unhex(s_hex));
  return absl::StrCat(std::string(1, '\x30'), std::string(1, static_cast<char>(body.size())), body);
}

TEST(KeysEcdsa, Rfc6979PublishedSignaturesVerify) {
  // RFC 6979 A.2.5: public key U = xG, and the SHA-256 signatures of "sample" and "test".
  const std::string ux = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
  const std::string uy = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
  // SubjectPublicKeyInfo: id-ecPublicKey (1.2.840.10045.2.1), prime256v1 (1.2.840.10045.3.1.7),
  // and the uncompressed point 04 || x || y.
  const std::string spki =
      Unhex(absl::StrCat("3059301306072a8648ce3d020106082a8648ce3d03010703420004", ux, uy));
  auto pub = PublicKey::FromSpkiDer(spki);
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->algorithm(), KeyAlgorithm::kEcdsaP256);
  EXPECT_TRUE(pub->ed25519_raw().empty());
  EXPECT_EQ(pub->spki_der(), spki);
  EXPECT_EQ(pub->keyid(), ToHex(Sha256Of(spki)));

  const std::string sample =
      DerSignature("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
                   "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
  const std::string test =
      DerSignature("F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
                   "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083");
  EXPECT_TRUE(pub->Verify("sample", sample).ok()) << pub->Verify("sample", sample);
  EXPECT_TRUE(pub->Verify("test", test).ok()) << pub->Verify("test", test);
  EXPECT_FALSE(pub->Verify("test", sample).ok());
  EXPECT_FALSE(pub->Verify("sample", test).ok());
  EXPECT_FALSE(pub->Verify("sample!", sample).ok());
  for (size_t bit = 0; bit < sample.size() * 8; ++bit) {
    EXPECT_FALSE(pub->Verify("sample", FlipBit(sample, bit)).ok()) << "signature bit " << bit;
  }
}

TEST(KeysEcdsa, GenerateSignVerify) {
  auto key = PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->algorithm(), KeyAlgorithm::kEcdsaP256);
  const PublicKey& pub = key->public_key();
  EXPECT_EQ(pub.algorithm(), KeyAlgorithm::kEcdsaP256);
  EXPECT_TRUE(pub.ed25519_raw().empty());
  EXPECT_EQ(pub.spki_der().size(), 91u);  // 0x30 0x59 ...: the named-curve P-256 form

  const std::string message = "a ledger entry";
  auto sig = key->Sign(message);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(static_cast<uint8_t>((*sig)[0]), 0x30);  // DER SEQUENCE
  EXPECT_TRUE(pub.Verify(message, *sig).ok()) << pub.Verify(message, *sig);
  EXPECT_TRUE(key->Sign("").ok());
  auto empty_sig = key->Sign("");
  ASSERT_TRUE(empty_sig.ok());
  EXPECT_TRUE(pub.Verify("", *empty_sig).ok());

  EXPECT_EQ(pub.Verify("a ledger entrY", *sig).code(), absl::StatusCode::kUnauthenticated);
  for (size_t bit = 0; bit < message.size() * 8; ++bit) {
    EXPECT_FALSE(pub.Verify(FlipBit(message, bit), *sig).ok()) << "message bit " << bit;
  }
  for (size_t bit = 0; bit < sig->size() * 8; ++bit) {
    EXPECT_FALSE(pub.Verify(message, FlipBit(*sig, bit)).ok()) << "signature bit " << bit;
  }
  EXPECT_FALSE(pub.Verify(message, "").ok());
  EXPECT_FALSE(pub.Verify(message, sig->substr(0, sig->size() - 1)).ok());

  // Another key does not verify it; an Ed25519 key neither.
  auto other = PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->public_key().Verify(message, *sig).ok());
  auto ed = PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(ed.ok()) << ed.status();
  EXPECT_FALSE(ed->public_key().Verify(message, *sig).ok());
  auto ed_sig = ed->Sign(message);
  ASSERT_TRUE(ed_sig.ok());
  EXPECT_FALSE(pub.Verify(message, *ed_sig).ok());
}

TEST(KeysEcdsa, PemRoundTrip) {
  auto key = PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string priv_pem = key->ToPem();
  const std::string pub_pem = key->public_key().ToPem();
  EXPECT_TRUE(absl::StartsWith(priv_pem, StrCat("-----BEGIN PRIVATE", " KEY-----\n"))) << priv_pem;
  EXPECT_TRUE(absl::StartsWith(pub_pem, "-----BEGIN PUBLIC KEY-----\n")) << pub_pem;

  auto priv2 = PrivateKey::FromPem(priv_pem);
  ASSERT_TRUE(priv2.ok()) << priv2.status();
  EXPECT_EQ(priv2->algorithm(), KeyAlgorithm::kEcdsaP256);
  EXPECT_EQ(priv2->public_key().spki_der(), key->public_key().spki_der());
  EXPECT_EQ(priv2->public_key().keyid(), key->public_key().keyid());
  EXPECT_EQ(priv2->ToPem(), priv_pem);

  auto pub2 = PublicKey::FromPem(pub_pem);
  ASSERT_TRUE(pub2.ok()) << pub2.status();
  EXPECT_EQ(pub2->algorithm(), KeyAlgorithm::kEcdsaP256);
  EXPECT_EQ(pub2->spki_der(), key->public_key().spki_der());
  EXPECT_EQ(pub2->keyid(), key->public_key().keyid());
  EXPECT_EQ(pub2->ToPem(), pub_pem);

  // Signatures cross over: by the reloaded key, checked by the original, and the reverse.
  auto sig = priv2->Sign("round trip");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(key->public_key().Verify("round trip", *sig).ok());
  auto sig2 = key->Sign("round trip");
  ASSERT_TRUE(sig2.ok()) << sig2.status();
  EXPECT_TRUE(pub2->Verify("round trip", *sig2).ok());

  // A public key is not a private key, and the reverse.
  EXPECT_FALSE(PrivateKey::FromPem(pub_pem).ok());
  EXPECT_FALSE(PublicKey::FromPem(priv_pem).ok());
}

TEST(KeysEd25519, PemRoundTrip) {
  const Rfc8032Vector v = Rfc8032Vectors()[1];  // TEST 2
  auto key = PrivateKey::FromEd25519Seed(Unhex(v.secret_key));
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string priv_pem = key->ToPem();
  EXPECT_TRUE(absl::StartsWith(priv_pem, StrCat("-----BEGIN PRIVATE", " KEY-----\n"))) << priv_pem;
  auto priv2 = PrivateKey::FromPem(priv_pem);
  ASSERT_TRUE(priv2.ok()) << priv2.status();
  EXPECT_EQ(priv2->algorithm(), KeyAlgorithm::kEd25519);
  EXPECT_EQ(ToHex(priv2->public_key().ed25519_raw()), v.public_key);
  auto sig = priv2->Sign(Unhex(v.message));
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(ToHex(*sig), v.signature);
  auto pub2 = PublicKey::FromPem(key->public_key().ToPem());
  ASSERT_TRUE(pub2.ok()) << pub2.status();
  EXPECT_EQ(ToHex(pub2->ed25519_raw()), v.public_key);
  EXPECT_EQ(pub2->keyid(), key->public_key().keyid());

  auto generated = PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(generated.ok()) << generated.status();
  EXPECT_EQ(generated->public_key().ed25519_raw().size(), 32u);
  auto reloaded = PrivateKey::FromPem(generated->ToPem());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ(reloaded->public_key().keyid(), generated->public_key().keyid());
  auto s1 = generated->Sign("x");
  auto s2 = reloaded->Sign("x");
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(*s1, *s2);  // deterministic, same key
  EXPECT_TRUE(generated->public_key().Verify("x", *s2).ok());
}

}  // namespace
}  // namespace veta
