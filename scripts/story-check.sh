# Sourced by scripts/test-aarch64.sh and scripts/test-mingw.sh: the stories260K story a cross
# build prints must be the model's story and byte-identical to the host build's.
story_gen=(generate -m ../shared/fixtures/stories260K-f32.gguf -p "Once upon a time" -n 40
           --greedy --quiet)
story_host=""
[[ -x build/dev/bin/nibble ]] && story_host=$(build/dev/bin/nibble "${story_gen[@]}" 2>/dev/null)

# check_story LABEL STORY: prints the verdict; returns 1 when the story is wrong or differs.
check_story() {
  local label=$1 story=$2
  if [[ "$story" != *"there was a little girl named Lily"* ]]; then
    echo "-- $label: wrong story: $story"
    return 1
  elif [[ -n "$story_host" && "$story" != "$story_host" ]]; then
    echo "-- $label: differs from the x86-64 Linux build:"
    echo "   here:         $story"
    echo "   x86-64 Linux: $story_host"
    return 1
  fi
  echo "-- $label: ${story_host:+identical to x86-64 Linux: }$story"
}
