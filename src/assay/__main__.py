from assay.cli import app

app(prog_name="assay")
