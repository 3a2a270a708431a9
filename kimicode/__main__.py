from kimicode.cli import main

main()
