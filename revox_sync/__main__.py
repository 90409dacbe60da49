from revox_sync.cli import console_main

console_main()
