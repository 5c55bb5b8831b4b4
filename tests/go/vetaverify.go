// Command vetaverify checks Veta's signed checkpoints and Merkle proofs with the Go reference
// implementations golang.org/x/mod/sumdb/note (C2SP signed-note, Ed25519) and
// golang.org/x/mod/sumdb/tlog (RFC 6962 / RFC 9162 proofs). The C++ tests run it to show
// that what Veta publishes verifies with code it shares nothing with.
//
// Usage:
//
//	vetaverify checkpoint  VERIFIER_KEY NOTE_FILE
//	vetaverify inclusion   VERIFIER_KEY NOTE_FILE LEAF_INDEX LEAF_HASH_HEX [PROOF_HASH_HEX ...]
//	vetaverify consistency VERIFIER_KEY OLD_NOTE_FILE NEW_NOTE_FILE [PROOF_HASH_HEX ...]
//
// Exit status: 0 when valid; 1 with a one-line reason on stderr when the note, checkpoint or
// proof does not verify; 2 on a usage error (bad arguments, unreadable file), so that a test
// expecting a rejection cannot be satisfied by a broken invocation.
//
// Proof hashes are given in the order of RFC 9162 (and RFC 6962): from the leaf (or the
// oldest subtree) towards the root. tlog.RecordProof and tlog.TreeProof use that same order:
// leafProof and treeProof append the hash of the sibling at each level after the proof of the
// level below, and runRecordProof / runTreeProof consume p[len(p)-1] at the top level.
//
// The checkpoint body is c2sp.org/tlog-checkpoint: origin line, decimal tree size, base64
// root hash, then optional extension lines. tlog.ParseTree accepts only the go.sum database's
// origin, so the body is parsed here.
package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// invalid marks a verification failure (exit 1); any other error is a usage error (exit 2).
type invalid struct{ err error }

func (e invalid) Error() string { return e.err.Error() }

func invalidf(format string, args ...any) error {
	return invalid{fmt.Errorf(format, args...)}
}

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

// parseCheckpoint parses a c2sp.org/tlog-checkpoint body strictly: canonical decimal size
// (no sign, no leading zero) and canonical standard base64 of exactly 32 bytes.
func parseCheckpoint(text string) (checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return checkpoint{}, invalidf("checkpoint text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return checkpoint{}, invalidf("checkpoint has %d lines, want at least 3", len(lines))
	}
	origin, sizeText, rootText := lines[0], lines[1], lines[2]
	if origin == "" {
		return checkpoint{}, invalidf("checkpoint origin is empty")
	}
	for _, line := range lines[3:] {
		if line == "" {
			return checkpoint{}, invalidf("checkpoint has an empty extension line")
		}
	}
	if sizeText == "" || (len(sizeText) > 1 && sizeText[0] == '0') ||
		strings.TrimLeft(sizeText, "0123456789") != "" {
		return checkpoint{}, invalidf("checkpoint size %q is not a canonical decimal", sizeText)
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil {
		return checkpoint{}, invalidf("checkpoint size %q: %v", sizeText, err)
	}
	root, err := base64.StdEncoding.Strict().DecodeString(rootText)
	if err != nil || len(root) != tlog.HashSize ||
		base64.StdEncoding.EncodeToString(root) != rootText {
		return checkpoint{}, invalidf("checkpoint root %q is not base64 of 32 bytes", rootText)
	}
	var cp checkpoint
	cp.origin = origin
	cp.tree.N = size
	copy(cp.tree.Hash[:], root)
	return cp, nil
}

// openCheckpoint reads a signed note, checks its signature by vkey and parses its body. The
// key's name must also be the checkpoint's origin, as c2sp.org/tlog-checkpoint requires of
// the log's own signature.
func openCheckpoint(vkey, path string) (checkpoint, error) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return checkpoint{}, fmt.Errorf("verifier key: %v", err)
	}
	msg, err := os.ReadFile(path)
	if err != nil {
		return checkpoint{}, err
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, invalidf("%s: note.Open: %v", path, err)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return checkpoint{}, invalidf("%s: %v", path, err)
	}
	if cp.origin != verifier.Name() {
		return checkpoint{}, invalidf("%s: origin %q is not the key name %q", path, cp.origin,
			verifier.Name())
	}
	return cp, nil
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("%q is not 64 hex digits", s)
	}
	copy(h[:], b)
	return h, nil
}

func parseHashes(args []string) ([]tlog.Hash, error) {
	hashes := make([]tlog.Hash, 0, len(args))
	for _, arg := range args {
		h, err := parseHash(arg)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	return hashes, nil
}

func cmdCheckpoint(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: vetaverify checkpoint VERIFIER_KEY NOTE_FILE")
	}
	cp, err := openCheckpoint(args[0], args[1])
	if err != nil {
		return err
	}
	fmt.Printf("%d %s\n", cp.tree.N, hex.EncodeToString(cp.tree.Hash[:]))
	return nil
}

func cmdInclusion(args []string) error {
	if len(args) < 4 {
		return errors.New("usage: vetaverify inclusion VERIFIER_KEY NOTE_FILE LEAF_INDEX " +
			"LEAF_HASH_HEX [PROOF_HASH_HEX ...]")
	}
	index, err := strconv.ParseInt(args[2], 10, 64)
	if err != nil || index < 0 {
		return fmt.Errorf("leaf index %q is not a non-negative decimal", args[2])
	}
	leaf, err := parseHash(args[3])
	if err != nil {
		return fmt.Errorf("leaf hash: %v", err)
	}
	proof, err := parseHashes(args[4:])
	if err != nil {
		return fmt.Errorf("proof: %v", err)
	}
	cp, err := openCheckpoint(args[0], args[1])
	if err != nil {
		return err
	}
	if err := tlog.CheckRecord(tlog.RecordProof(proof), cp.tree.N, cp.tree.Hash, index,
		leaf); err != nil {
		return invalidf("inclusion of leaf %d in tree of size %d: %v", index, cp.tree.N, err)
	}
	return nil
}

func cmdConsistency(args []string) error {
	if len(args) < 3 {
		return errors.New("usage: vetaverify consistency VERIFIER_KEY OLD_NOTE_FILE " +
			"NEW_NOTE_FILE [PROOF_HASH_HEX ...]")
	}
	proof, err := parseHashes(args[3:])
	if err != nil {
		return fmt.Errorf("proof: %v", err)
	}
	old, err := openCheckpoint(args[0], args[1])
	if err != nil {
		return err
	}
	cur, err := openCheckpoint(args[0], args[2])
	if err != nil {
		return err
	}
	if old.origin != cur.origin {
		return invalidf("origins differ: %q and %q", old.origin, cur.origin)
	}
	if err := tlog.CheckTree(tlog.TreeProof(proof), cur.tree.N, cur.tree.Hash, old.tree.N,
		old.tree.Hash); err != nil {
		return invalidf("consistency of size %d with size %d: %v", old.tree.N, cur.tree.N, err)
	}
	return nil
}

func main() {
	commands := map[string]func([]string) error{
		"checkpoint":  cmdCheckpoint,
		"inclusion":   cmdInclusion,
		"consistency": cmdConsistency,
	}
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: vetaverify checkpoint|inclusion|consistency ...")
		os.Exit(2)
	}
	err := commands[os.Args[1]](os.Args[2:])
	if err == nil {
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "vetaverify %s: %v\n", os.Args[1], err)
	var inv invalid
	if errors.As(err, &inv) {
		os.Exit(1)
	}
	os.Exit(2)
}
