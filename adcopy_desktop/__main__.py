from adcopy_desktop.cli import main

main()
