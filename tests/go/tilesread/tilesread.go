// Command tilesread reads a Veta log published as C2SP tlog-tiles over HTTP, with nothing but
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog: an independent reader, as a
// witness, a monitor or a regulator's mirror would be.
//
// Usage:
//
//	tilesread -url URL -key VERIFIER_KEY [-bundles URL] [-old NOTE_FILE] [-save NOTE_FILE]
//	          [-leaf INDEX:HEX_LEAF_HASH ...]
//
// It fetches URL/checkpoint and opens it with the verifier key (note.Open), then:
//   - for each -leaf, proves that leaf at that index in the signed tree (tlog.ProveRecord
//     from the tiles, tlog.CheckRecord against the signed root);
//   - with -bundles, fetches every entry bundle of the tree from that URL (a trusted mirror of
//     the bundles: they are not public), hashes each entry (tlog.RecordHash) and proves it at
//     its index in the signed tree the same way;
//   - with -old, opens that earlier checkpoint and proves the signed tree extends it
//     (tlog.ProveTree from the tiles, tlog.CheckTree against both signed roots);
//   - with -save, writes the checkpoint it fetched there (for a later -old).
//
// Tiles: x/mod names a tile tile/8/L/N[.p/W] (with its height); C2SP tlog-tiles names it
// tile/L/N[.p/W], with N in the same x001/x234/067 encoding. The reader below maps one to the
// other. x/mod's TileHashReader does not check every tile it reads against its parent tile, so
// nothing here is trusted until CheckRecord or CheckTree ties it to the signed root.
//
// Exit status: 0 when everything verified; 1 with the reason on stderr otherwise.
package main

import (
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type leafFlags []string

func (l *leafFlags) String() string     { return strings.Join(*l, ",") }
func (l *leafFlags) Set(s string) error { *l = append(*l, s); return nil }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tilesread: "+format+"\n", args...)
	os.Exit(1)
}

func get(url string) ([]byte, int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	return body, resp.StatusCode, err
}

// openCheckpoint verifies a signed checkpoint and parses its body (c2sp.org/tlog-checkpoint:
// origin, size, base64 root; tlog.ParseTree accepts only the go.sum database's origin).
func openCheckpoint(msg []byte, verifiers note.Verifiers) (string, tlog.Tree) {
	n, err := note.Open(msg, verifiers)
	if err != nil {
		fail("checkpoint does not verify: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint body too short: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fail("bad tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("bad root hash %q", lines[2])
	}
	var t tlog.Tree
	t.N = size
	copy(t.Hash[:], root)
	return lines[0], t
}

// tileReader reads C2SP hash tiles over HTTP (caching them: tiles are immutable, and every
// use is checked against the signed root anyway).
type tileReader struct {
	base  string
	cache map[string][]byte
	reads int
}

func (r *tileReader) Height() int { return 8 }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		xpath := t.Path() // tile/8/L/N[.p/W]
		if !strings.HasPrefix(xpath, "tile/8/") {
			return nil, fmt.Errorf("unexpected x/mod tile path %s", xpath)
		}
		path := "tile/" + strings.TrimPrefix(xpath, "tile/8/")
		if data, ok := r.cache[path]; ok {
			out[i] = data
			continue
		}
		data, status, err := get(r.base + "/" + path)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: HTTP %d", path, status)
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s has %d bytes, not %d", path, len(data), t.W*tlog.HashSize)
		}
		r.reads++
		r.cache[path] = data
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// bundlePath is the C2SP path of entry bundle n of width w (256: full).
func bundlePath(n int64, w int) string {
	t := tlog.Tile{H: 8, L: 0, N: n, W: w}
	return "tile/entries/" + strings.TrimPrefix(t.Path(), "tile/8/0/")
}

func proveLeaf(tree tlog.Tree, hr tlog.HashReader, index int64, leaf tlog.Hash) {
	proof, err := tlog.ProveRecord(tree.N, index, hr)
	if err != nil {
		fail("no inclusion proof for entry %d from the tiles: %v", index, err)
	}
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, leaf); err != nil {
		fail("entry %d is not in the signed tree of size %d: %v", index, tree.N, err)
	}
}

func main() {
	base := flag.String("url", "", "the log's prefix (serving checkpoint and tile/)")
	key := flag.String("key", "", "the log's note verifier key")
	bundles := flag.String("bundles", "", "where the entry bundles are served (tile/entries/)")
	old := flag.String("old", "", "an earlier checkpoint note to prove consistency with")
	save := flag.String("save", "", "write the fetched checkpoint here")
	var leaves leafFlags
	flag.Var(&leaves, "leaf", "INDEX:HEX_LEAF_HASH to prove (repeatable)")
	flag.Parse()
	if *base == "" || *key == "" {
		fmt.Fprintln(os.Stderr, "usage: tilesread -url URL -key VERIFIER_KEY [-bundles URL] [-old NOTE] [-save NOTE] [-leaf I:HASH]")
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(*key)
	if err != nil {
		fail("bad verifier key: %v", err)
	}
	verifiers := note.VerifierList(verifier)

	msg, status, err := get(*base + "/checkpoint")
	if err != nil || status != http.StatusOK {
		fail("GET checkpoint: HTTP %d %v", status, err)
	}
	origin, tree := openCheckpoint(msg, verifiers)
	if origin != verifier.Name() {
		fail("checkpoint origin %q is not the key's name %q", origin, verifier.Name())
	}
	reader := &tileReader{base: *base, cache: map[string][]byte{}}
	hr := tlog.TileHashReader(tree, reader)
	proved := 0

	for _, l := range leaves {
		parts := strings.SplitN(l, ":", 2)
		if len(parts) != 2 {
			fail("bad -leaf %q", l)
		}
		index, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			fail("bad -leaf index %q", parts[0])
		}
		raw, err := hex.DecodeString(parts[1])
		if err != nil || len(raw) != tlog.HashSize {
			fail("bad -leaf hash %q", parts[1])
		}
		var leaf tlog.Hash
		copy(leaf[:], raw)
		proveLeaf(tree, hr, index, leaf)
		proved++
	}

	entries := 0
	if *bundles != "" {
		for n := int64(0); n*256 < tree.N; n++ {
			w := 256
			if rest := tree.N - n*256; rest < 256 {
				w = int(rest)
			}
			path := bundlePath(n, w)
			data, status, err := get(*bundles + "/" + path)
			if err != nil || status != http.StatusOK {
				fail("GET %s: HTTP %d %v", path, status, err)
			}
			for i := 0; i < w; i++ {
				if len(data) < 2 {
					fail("%s ends before entry %d", path, i)
				}
				size := int(data[0])<<8 | int(data[1])
				if len(data) < 2+size {
					fail("%s: entry %d runs past the end", path, i)
				}
				entry := data[2 : 2+size]
				data = data[2+size:]
				proveLeaf(tree, hr, n*256+int64(i), tlog.RecordHash(entry))
				entries++
			}
			if len(data) != 0 {
				fail("%s has %d bytes after its %d entries", path, len(data), w)
			}
		}
	}

	if *old != "" {
		oldMsg, err := os.ReadFile(*old)
		if err != nil {
			fail("%v", err)
		}
		oldOrigin, oldTree := openCheckpoint(oldMsg, verifiers)
		if oldOrigin != origin {
			fail("the old checkpoint is of log %q", oldOrigin)
		}
		if oldTree.N > tree.N {
			fail("the old checkpoint (%d) is larger than the new one (%d)", oldTree.N, tree.N)
		}
		proof, err := tlog.ProveTree(tree.N, oldTree.N, hr)
		if err != nil {
			fail("no consistency proof from the tiles: %v", err)
		}
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, oldTree.N, oldTree.Hash); err != nil {
			fail("the tree of size %d does not extend the one of size %d: %v", tree.N, oldTree.N, err)
		}
	}

	if *save != "" {
		if err := os.WriteFile(*save, msg, 0o644); err != nil {
			fail("%v", err)
		}
	}
	fmt.Printf("ok: checkpoint %s size %d; %d leaves and %d bundle entries proved; consistency with old: %v; %d tiles read\n",
		origin, tree.N, proved, entries, *old != "", reader.reads)
}
