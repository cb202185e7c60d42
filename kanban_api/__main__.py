from kanban_api.cli import main

main()
