from lstmcast.cli import app

app(prog_name="lstmcast")
