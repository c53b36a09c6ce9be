from .workers import main

main()
