class Logger:
    def warning(self, message: str) -> None:
        print(message)


logger = Logger()
