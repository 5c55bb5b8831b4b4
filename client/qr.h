// The certificate's verification URL and its QR code (libqrencode), for a terminal (UTF-8 half
// blocks) and as SVG. The URL is the web app's "Verificar oro" page holding the lot id and the
// certificate's digest, as the web app reads it:
//   <base URL>/#/verificar?lote=<URL-encoded lot id>&nota=<lowercase hex SHA-256 of the note>
// where the note is the certificate's `note` field (its UTF-8 bytes).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace veta::client {

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string UrlEncode(std::string_view text);

// The verification URL (a trailing '/' of base_url is dropped).
std::string CertificateUrl(std::string_view base_url, std::string_view lot_id,
                           std::string_view note);

// A QR code: width x width modules, row by row, true for dark.
struct QrCode {
  int width = 0;
  std::vector<bool> dark;
  bool at(int x, int y) const { return dark[static_cast<size_t>(y) * width + x]; }
};

// Encodes `text` (8-bit mode, error correction level M, the smallest version that holds it).
absl::StatusOr<QrCode> EncodeQr(std::string_view text);

// For a terminal: two module rows per text line in UTF-8 half blocks, light modules drawn (a
// terminal's dark background shows the dark modules), with a quiet zone of `quiet` modules.
std::string QrToTerminal(const QrCode& qr, int quiet = 2);

// A standalone SVG: a white square with the dark modules as one path, `scale` pixels a module
// and a quiet zone of 4 modules.
std::string QrToSvg(const QrCode& qr, int scale = 8);

}  // namespace veta::client
