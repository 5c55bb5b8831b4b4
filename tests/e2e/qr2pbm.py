import re, sys
# qr2pbm.py terminal|svg IN OUT: the QR code drawn by veta as a PBM image (8 px a module).
kind, src, dst = sys.argv[1:4]
text = open(src, encoding='utf-8').read()
if kind == 'terminal':
    lines = [l for l in text.split('\n') if l and set(l) <= set('\u2588\u2580\u2584 ')]
    rows = []
    for l in lines:
        top = [c in '\u2588\u2580' for c in l]
        bottom = [c in '\u2588\u2584' for c in l]
        rows += [[not lit for lit in top], [not lit for lit in bottom]]  # drawn = light
else:
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', text).group(1))
    rows = [[False] * size for _ in range(size)]
    for x, y in re.findall(r'M(\d+) (\d+)h1v1h-1z', text):
        rows[int(y)][int(x)] = True
s = 8
with open(dst, 'w') as f:
    f.write('P1\n%d %d\n' % (len(rows[0]) * s, len(rows) * s))
    for r in rows:
        line = ' '.join('1' if d else '0' for d in r for _ in range(s))
        for _ in range(s):
            f.write(line + '\n')
