def strategy(board):
    # Corner heuristic: keep the big tiles in the bottom-left corner by preferring
    # down and left, then right; up only when nothing else moves.
    n = len(board)

    def moves(key):
        cols = [[board[r][c] for r in range(n)] for c in range(n)]
        if key == "A":
            lines = [list(row) for row in board]
        elif key == "D":
            lines = [list(reversed(row)) for row in board]
        elif key == "W":
            lines = cols
        else:
            lines = [list(reversed(col)) for col in cols]
        for line in lines:
            tiles = [v for v in line if v]
            if line[: len(tiles)] != tiles:
                return True
            if any(tiles[i] == tiles[i + 1] for i in range(len(tiles) - 1)):
                return True
        return False

    for key in "SADW":
        if moves(key):
            return key
    return "S"
