from adcopy_desktop.cli.app import main

main()
