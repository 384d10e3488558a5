def strategy(board):
    # Greedy one-step search: take the move with the most merged points plus a bonus
    # per empty cell; ties go to down/left so the big tiles drift to one corner.
    n = len(board)

    def slide(line):
        tiles = [v for v in line if v]
        out = []
        gained = 0
        i = 0
        while i < len(tiles):
            if i + 1 < len(tiles) and tiles[i] == tiles[i + 1]:
                out.append(2 * tiles[i])
                gained = gained + 2 * tiles[i]
                i = i + 2
            else:
                out.append(tiles[i])
                i = i + 1
        return out + [0] * (n - len(out)), gained

    def lines(key):
        cols = [[board[r][c] for r in range(n)] for c in range(n)]
        if key == "A":
            return [list(row) for row in board]
        if key == "D":
            return [list(reversed(row)) for row in board]
        if key == "W":
            return cols
        return [list(reversed(col)) for col in cols]

    best_key = None
    best_value = -1
    for rank, key in enumerate("SADW"):
        changed = False
        gained = 0
        empty = 0
        for line in lines(key):
            new_line, points = slide(line)
            changed = changed or new_line != line
            gained = gained + points
            empty = empty + new_line.count(0)
        value = gained + 8 * empty - rank
        if changed and value > best_value:
            best_key = key
            best_value = value
    return best_key or "S"
