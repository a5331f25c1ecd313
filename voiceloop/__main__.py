from voiceloop.cli import main

main()
