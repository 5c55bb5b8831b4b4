#include "client/qr.h"

#include <qrencode.h>

#include <cerrno>
#include <cstring>

#include "core/base/strings.h"
#include "core/verify/sha256.h"

namespace veta::client {

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string CertificateUrl(std::string_view base_url, std::string_view lot_id,
                           std::string_view note) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return StrCat(base_url, "/#/verificar?lote=", UrlEncode(lot_id), "&nota=", ToHex(Sha256Of(note)));
}

absl::StatusOr<QrCode> EncodeQr(std::string_view text) {
  QRcode* code =
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M);
  if (code == nullptr) {
    return absl::InvalidArgumentError(
        StrCat("cannot make a QR code of ", text.size(), " bytes: ", std::strerror(errno)));
  }
  QrCode qr;
  qr.width = code->width;
  qr.dark.resize(static_cast<size_t>(code->width) * code->width);
  for (size_t i = 0; i < qr.dark.size(); ++i) qr.dark[i] = (code->data[i] & 1) != 0;
  QRcode_free(code);
  return qr;
}

std::string QrToTerminal(const QrCode& qr, int quiet) {
  const int size = qr.width + 2 * quiet;
  // Light (drawn) unless a dark module: the quiet zone is light.
  auto light = [&](int x, int y) {
    x -= quiet;
    y -= quiet;
    if (x < 0 || y < 0 || x >= qr.width || y >= qr.width) return true;
    return !qr.at(x, y);
  };
  std::string out;
  for (int y = 0; y < size; y += 2) {
    for (int x = 0; x < size; ++x) {
      const bool top = light(x, y), bottom = y + 1 < size ? light(x, y + 1) : false;
      out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
    out += '\n';
  }
  return out;
}

std::string QrToSvg(const QrCode& qr, int scale) {
  constexpr int kQuiet = 4;
  const int size = qr.width + 2 * kQuiet;
  std::string path;
  for (int y = 0; y < qr.width; ++y) {
    for (int x = 0; x < qr.width; ++x) {
      if (qr.at(x, y)) path += StrCat("M", x + kQuiet, " ", y + kQuiet, "h1v1h-1z");
    }
  }
  return StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"", size * scale,
                "\" height=\"", size * scale, "\" viewBox=\"0 0 ", size, " ", size,
                "\" shape-rendering=\"crispEdges\">\n", "<rect width=\"", size, "\" height=\"",
                size, "\" fill=\"#fff\"/>\n", "<path fill=\"#000\" d=\"", path, "\"/>\n",
                "</svg>\n");
}

}  // namespace veta::client
