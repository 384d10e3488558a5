def strategy(board):
    # Win if we can, block the opponent's win, never drop a piece that lets the opponent win
    # on top of it, and otherwise prefer the centre columns (they belong to the most fours).
    rows = len(board)
    cols = len(board[0])

    def landing(column):
        for row in range(rows - 1, -1, -1):
            if board[row][column] == 0:
                return row
        return -1

    def four(row, column, piece):
        for step in ((0, 1), (1, 0), (1, 1), (1, -1)):
            count = 1
            for sign in (1, -1):
                r = row + sign * step[0]
                c = column + sign * step[1]
                while 0 <= r < rows and 0 <= c < cols and board[r][c] == piece:
                    count = count + 1
                    r = r + sign * step[0]
                    c = c + sign * step[1]
            if count >= 4:
                return True
        return False

    def wins(column, piece):
        row = landing(column)
        if row < 0:
            return False
        board[row][column] = piece
        won = four(row, column, piece)
        board[row][column] = 0
        return won

    def safe(column):
        row = landing(column)
        if row == 0:
            return True
        board[row][column] = 1
        gives = wins(column, 2)
        board[row][column] = 0
        return not gives

    legal = [c for c in range(cols) if board[0][c] == 0]
    for piece in (1, 2):
        for column in legal:
            if wins(column, piece):
                return column
    order = sorted(legal, key=lambda c: abs(c - cols // 2))
    for column in order:
        if safe(column):
            return column
    return order[0]
