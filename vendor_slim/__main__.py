from vendor_slim.cli import main

main()
